"""FranceConnect login against the real local stand-in (oidc-provider): nothing patched."""

import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from comptes.models import Utilisateur

pytestmark = pytest.mark.django_db


@pytest.fixture
def navigateur():
    """The portal as the browser sees it (the stand-in allows 127.0.0.1 redirects)."""
    return Client(HTTP_HOST="127.0.0.1:8000")


def demarrer(client) -> str:
    reponse = client.get("/oidc/authenticate/")
    assert reponse.status_code == 302
    return reponse["Location"]


def revenir(client, url_retour: str):
    morceaux = urlsplit(url_retour)
    return client.get(f"{morceaux.path}?{morceaux.query}")


def connecter(client, franceconnect, login="test"):
    return revenir(client, franceconnect.se_connecter(demarrer(client), login=login))


def test_demande_d_autorisation_conforme_a_franceconnect(navigateur, franceconnect):
    url = urlsplit(demarrer(navigateur))
    parametres = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{franceconnect.issuer}/authorize"
    assert parametres["response_type"] == "code"
    assert parametres["acr_values"] == "eidas1"
    assert set(parametres["scope"].split()) == {
        "openid",
        "given_name",
        "family_name",
        "birthdate",
        "birthplace",
        "birthcountry",
        "email",
    }
    assert len(parametres["nonce"]) >= 22 and len(parametres["state"]) >= 22
    assert parametres["code_challenge_method"] == "S256"
    assert parametres["redirect_uri"] == "http://127.0.0.1:8000/oidc/callback/"
    assert "prompt" not in parametres


def test_connexion_complete_cree_le_proche_par_sub(navigateur, franceconnect):
    reponse = connecter(navigateur, franceconnect)
    assert reponse.status_code == 302 and reponse["Location"] == "/espace/"
    identite = franceconnect.identites["test"]["claims"]
    proche = Utilisateur.objects.get(fc_sub=identite["sub"])
    assert proche.fc_family_name == "DUBOIS"
    assert proche.fc_given_name == "Angela Claire Louise"
    assert proche.fc_birthdate.isoformat() == "1962-08-24"
    assert proche.fc_birthplace == "75107"
    assert proche.email == identite["email"]
    assert not proche.is_staff and not proche.is_superuser
    assert not proche.has_usable_password()
    assert int(navigateur.session["_auth_user_id"]) == proche.pk
    assert navigateur.session["oidc_id_token"].count(".") == 2


def test_identite_rafraichie_a_chaque_connexion_et_compte_retrouve_par_sub(
    navigateur, franceconnect
):
    sub = franceconnect.identites["martin"]["claims"]["sub"]
    # Same email as the FranceConnect identity but another sub: must not be matched.
    Utilisateur.objects.create(username="homonyme", email="jean-pierre.martin@example.fr")
    proche = Utilisateur.objects.create(
        username="ancien", fc_sub=sub, fc_family_name="ANCIEN NOM", fc_given_name="X"
    )
    connecter(navigateur, franceconnect, login="martin")
    proche.refresh_from_db()
    assert proche.fc_family_name == "MARTIN" and proche.fc_given_name == "Jean-Pierre"
    assert int(navigateur.session["_auth_user_id"]) == proche.pk
    assert Utilisateur.objects.filter(fc_sub__isnull=False).count() == 1


def test_annulation_page_francaise_sans_connexion(navigateur, franceconnect):
    url_retour = franceconnect.se_connecter(demarrer(navigateur), annuler=True)
    assert "error=access_denied" in url_retour
    reponse = revenir(navigateur, url_retour)
    assert reponse.status_code == 400
    assert "Vous avez annulé la connexion avec FranceConnect." in reponse.text
    assert "S’identifier avec" in reponse.text  # offers to try again
    assert "_auth_user_id" not in navigateur.session


@pytest.mark.parametrize("etat", ["forge", None], ids=["state-inconnu", "sans-state"])
def test_retour_avec_state_inconnu(navigateur, franceconnect, etat):
    demarrer(navigateur)
    requete = "/oidc/callback/?code=abc" + (f"&state={etat}" if etat else "")
    reponse = navigateur.get(requete)
    assert reponse.status_code == 400
    assert "a expiré ou a déjà été utilisée" in reponse.text


def test_retour_rejoue_refuse(navigateur, franceconnect):
    url_retour = franceconnect.se_connecter(demarrer(navigateur))
    assert revenir(navigateur, url_retour).status_code == 302
    navigateur.logout()
    rejoue = revenir(navigateur, url_retour)
    assert rejoue.status_code == 400
    assert "_auth_user_id" not in navigateur.session


@pytest.mark.parametrize(
    ("deviation", "code"),
    [
        ({"aud": "un-autre-service"}, "jwt_aud"),
        # OIDC Core §3.1.3.7: a second, untrusted audience, or an azp that is not us.
        ({"aud": ["pecule-local", "un-autre-service"]}, "jwt_aud"),
        ({"id_token_claims": {"azp": "un-autre-service"}}, "jwt_azp"),
        ({"userinfo_aud": ["pecule-local", "un-autre-service"]}, "jwt_aud"),
        ({"iss": "http://127.0.0.1:1/api/v2"}, "jwt_iss"),
        ({"acr": "eidas2"}, "acr"),
        ({"tamper_signature": True}, "jwt_signature"),
        ({"expired": True}, "jwt_expire"),
        ({"unsigned": True}, "jwt_algorithme"),
        ({"userinfo_sub": "un-autre-sub"}, "userinfo_sub"),
        ({"userinfo_aud": "un-autre-service"}, "jwt_aud"),
        ({"userinfo_tamper_signature": True}, "jwt_signature"),
    ],
    ids=lambda v: v if isinstance(v, str) else "-".join(f"{k}={v[k]}" for k in v)[:60],
)
def test_jetons_non_conformes_refuses(navigateur, franceconnect, caplog, deviation, code):
    franceconnect.armer(**deviation)
    url_retour = franceconnect.se_connecter(demarrer(navigateur))
    with caplog.at_level(logging.WARNING):
        reponse = revenir(navigateur, url_retour)
    assert reponse.status_code == 400
    assert "l’identité transmise n’a pas pu être vérifiée" in reponse.text
    assert "_auth_user_id" not in navigateur.session
    assert not Utilisateur.objects.filter(fc_sub__isnull=False).exists()
    assert code in caplog.text
    # No personal claim in the logs.
    assert "DUBOIS" not in caplog.text and "1962-08-24" not in caplog.text


def test_deconnexion_passe_par_franceconnect(navigateur, franceconnect):
    connecter(navigateur, franceconnect)
    id_token = navigateur.session["oidc_id_token"]
    reponse = navigateur.post("/deconnexion/")
    assert reponse.status_code == 302
    url = urlsplit(reponse["Location"])
    parametres = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{franceconnect.issuer}/session/end"
    assert parametres["id_token_hint"] == id_token
    assert parametres["post_logout_redirect_uri"] == "http://127.0.0.1:8000/deconnexion/fin/"
    # Logged out of the portal at once, whatever FranceConnect does next.
    assert "_auth_user_id" not in navigateur.session
    retour = _suivre_jusqu_au_portail(franceconnect, reponse["Location"])
    assert parse_qs(urlsplit(retour).query)["state"] == [parametres["state"]]
    fin = revenir(navigateur, retour)
    assert fin.status_code == 200
    assert fin.context["etat_verifie"] is True
    assert "Vous êtes déconnecté(e)" in fin.text


def test_deconnexion_exige_un_post(navigateur, franceconnect):
    connecter(navigateur, franceconnect)
    assert navigateur.get("/deconnexion/").status_code == 405
    assert "_auth_user_id" in navigateur.session


def _suivre_jusqu_au_portail(franceconnect, url):
    import requests

    session = requests.Session()
    reponse = session.get(url, allow_redirects=False, timeout=10)
    while reponse.is_redirect:
        url = reponse.headers["Location"]
        if not url.startswith(franceconnect.base):
            return url
        reponse = session.get(url, allow_redirects=False, timeout=10)
    raise AssertionError(f"FranceConnect did not send the browser back ({reponse.status_code})")


def test_un_proche_ne_peut_pas_etre_personnel():
    with pytest.raises(IntegrityError), transaction.atomic():
        Utilisateur.objects.create(username="x", fc_sub="abc", is_staff=True)
