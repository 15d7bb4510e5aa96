"""The information systems' API: token per establishment, scope, errors, schema."""

import datetime
import json

import pytest
import yaml
from django.core.cache import cache
from django.core.management import call_command
from rest_framework.test import APIClient

from permis import services
from permis.authentication import ThrottleSystemeInformation
from permis.models import (
    ActionPermis,
    EvenementPermis,
    JetonSystemeInformation,
    PermisDeVisite,
    SignalementTransfert,
    StatutPermis,
)
from regie.models import CompteNominatif, Detenu, Regime, StatutPenal
from tests.factories import DetenuFactory, UtilisateurFactory

from .conftest import permis

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.permis.urls_test")]

API = "/api/v1"


@pytest.fixture(autouse=True)
def _cache_vide():
    cache.clear()  # throttling counters


def jeton_de(etablissement) -> tuple[JetonSystemeInformation, str]:
    return services.creer_jeton(
        etablissement=etablissement, nom="GENESIS", auteur=UtilisateurFactory(is_superuser=True)
    )


@pytest.fixture
def api_a(etab_a):
    _jeton, clair = jeton_de(etab_a)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {clair}")
    return client


def nouveau_permis(**kw):
    return {
        "numero": "pv 2026 100",
        "numero_ecrou": "12345",
        "titulaire_nom": "Lefèvre",
        "titulaire_prenoms": "Héloïse Éléonore",
        "titulaire_date_naissance": "1985-04-02",
        "date_debut": "2026-01-01",
        "date_fin": "2026-12-31",
        **kw,
    }


# --- Authentication -------------------------------------------------------------------------


def test_401_sans_jeton(permis_a):
    reponse = APIClient().get(f"{API}/permis/{permis_a.numero}/")
    assert reponse.status_code == 401
    assert reponse["WWW-Authenticate"].startswith("Bearer")
    assert reponse.json()["code"] == "not_authenticated"


def test_401_jeton_invalide_ou_revoque(etab_a, permis_a):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer pecule_si_faux")
    reponse = client.get(f"{API}/permis/{permis_a.numero}/")
    assert reponse.status_code == 401
    assert reponse.json() == {"detail": "Jeton invalide ou révoqué.", "code": "jeton_invalide"}
    jeton, clair = jeton_de(etab_a)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {clair}")
    assert client.get(f"{API}/permis/{permis_a.numero}/").status_code == 200
    services.revoquer_jeton(jeton=jeton, auteur=UtilisateurFactory(is_superuser=True))
    assert client.get(f"{API}/permis/{permis_a.numero}/").status_code == 401


def test_session_du_personnel_ne_suffit_pas(client, etab_a, permis_a):
    client.force_login(UtilisateurFactory(is_superuser=True))
    assert client.get(f"{API}/permis/{permis_a.numero}/").status_code == 401


def test_dernier_usage_note(etab_a, permis_a):
    jeton, clair = jeton_de(etab_a)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {clair}")
    client.get(f"{API}/permis/{permis_a.numero}/")
    jeton.refresh_from_db()
    assert jeton.dernier_usage is not None


# --- Permits --------------------------------------------------------------------------------


def test_creer(api_a, detenu):
    reponse = api_a.post(f"{API}/permis/", nouveau_permis(), format="json")
    assert reponse.status_code == 201, reponse.json()
    corps = reponse.json()
    assert corps["numero"] == "PV2026100"
    assert corps["etablissement"] == "MA-A" and corps["numero_ecrou"] == "12345"
    assert corps["statut"] == "actif"
    permis_ = PermisDeVisite.objects.get(numero="PV2026100")
    assert permis_.detenu == detenu
    evenement = EvenementPermis.objects.get(permis=permis_)
    assert evenement.action == ActionPermis.CREATION and evenement.jeton.nom == "GENESIS"


def test_creer_doublon_409(api_a, permis_a):
    reponse = api_a.post(f"{API}/permis/", nouveau_permis(numero=permis_a.numero), format="json")
    assert reponse.status_code == 409
    assert reponse.json()["code"] == "numero_deja_utilise"


def test_creer_erreurs_par_champ_400(api_a, detenu, etab_b):
    DetenuFactory(etablissement=etab_b, numero_ecrou="555")
    reponse = api_a.post(
        f"{API}/permis/",
        nouveau_permis(numero_ecrou="555", date_fin="2025-01-01", statut="annule"),
        format="json",
    )
    assert reponse.status_code == 400
    erreurs = reponse.json()
    assert set(erreurs) == {"numero_ecrou", "statut"}
    assert "Aucune personne détenue" in erreurs["numero_ecrou"][0]
    reponse = api_a.post(f"{API}/permis/", nouveau_permis(date_fin="2025-01-01"), format="json")
    assert reponse.status_code == 400
    assert set(reponse.json()) == {"date_fin"}
    assert not PermisDeVisite.objects.exists()


def test_lire_modifier(api_a, permis_a):
    reponse = api_a.get(f"{API}/permis/pv-2026-001/")
    assert reponse.status_code == 200 and reponse.json()["numero"] == "PV-2026-001"
    reponse = api_a.patch(
        f"{API}/permis/{permis_a.numero}/",
        {"date_fin": "2027-06-30", "lien": "épouse"},
        format="json",
    )
    assert reponse.status_code == 200, reponse.json()
    permis_a.refresh_from_db()
    assert permis_a.date_fin == datetime.date(2027, 6, 30) and permis_a.lien == "épouse"
    assert api_a.patch(
        f"{API}/permis/{permis_a.numero}/", {"numero": "AUTRE"}, format="json"
    ).json() == {"numero": ["Le numéro d'un permis ne peut pas être modifié."]}
    reponse = api_a.patch(
        f"{API}/permis/{permis_a.numero}/", {"date_fin": "2020-01-01"}, format="json"
    )
    assert reponse.status_code == 400 and "date_fin" in reponse.json()


def test_suspendre_reactiver_retirer(api_a, permis_a):
    reponse = api_a.post(
        f"{API}/permis/{permis_a.numero}/suspension/", {"motif": "Incident"}, format="json"
    )
    assert reponse.status_code == 200 and reponse.json()["statut"] == "suspendu"
    reponse = api_a.patch(f"{API}/permis/{permis_a.numero}/", {"statut": "actif"}, format="json")
    assert reponse.json()["statut"] == "actif"
    reponse = api_a.post(f"{API}/permis/{permis_a.numero}/retrait/", {}, format="json")
    assert reponse.status_code == 200 and reponse.json()["statut"] == "retire"
    assert api_a.post(f"{API}/permis/{permis_a.numero}/retrait/").status_code == 200
    reponse = api_a.post(f"{API}/permis/{permis_a.numero}/suspension/", {}, format="json")
    assert reponse.status_code == 409
    assert reponse.json()["code"] == "transition_interdite"
    reponse = api_a.patch(f"{API}/permis/{permis_a.numero}/", {"statut": "actif"}, format="json")
    assert reponse.status_code == 409
    permis_a.refresh_from_db()
    assert permis_a.statut == StatutPermis.RETIRE


def test_permis_d_un_autre_etablissement_404(api_a, etab_b):
    autre = permis(DetenuFactory(etablissement=etab_b), numero="B-1")
    for methode, chemin in [
        ("get", f"/permis/{autre.numero}/"),
        ("patch", f"/permis/{autre.numero}/"),
        ("post", f"/permis/{autre.numero}/retrait/"),
        ("post", f"/permis/{autre.numero}/suspension/"),
        ("get", "/permis/INCONNU/"),
    ]:
        reponse = getattr(api_a, methode)(f"{API}{chemin}", {}, format="json")
        assert reponse.status_code == 404, chemin
        assert reponse.json()["code"] == "permis_introuvable"
    autre.refresh_from_db()
    assert autre.statut == StatutPermis.ACTIF


def test_throttle(api_a, permis_a, monkeypatch):
    monkeypatch.setattr(
        ThrottleSystemeInformation, "THROTTLE_RATES", {"systeme_information": "2/min"}
    )
    assert api_a.get(f"{API}/permis/{permis_a.numero}/").status_code == 200
    assert api_a.get(f"{API}/permis/{permis_a.numero}/").status_code == 200
    reponse = api_a.get(f"{API}/permis/{permis_a.numero}/")
    assert reponse.status_code == 429
    assert reponse.json()["code"] == "throttled"


# --- Detainees --------------------------------------------------------------------------------


def test_creer_puis_mettre_a_jour_un_detenu(api_a, etab_a):
    identite = {"nom": "BERNARD", "prenoms": "Luc", "date_naissance": "1988-02-29"}
    reponse = api_a.put(f"{API}/detenus/E-42/", identite, format="json")
    assert reponse.status_code == 201, reponse.json()
    detenu = Detenu.objects.get(etablissement=etab_a, numero_ecrou="E-42")
    assert CompteNominatif.objects.filter(detenu=detenu).exists()
    assert detenu.statut_penal == StatutPenal.PREVENU
    reponse = api_a.put(
        f"{API}/detenus/E-42/",
        {
            **identite,
            "statut_penal": "condamne",
            "regime": "semi_liberte",
            "prive_de_subsides_jusquau": "2026-04-01",
        },
        format="json",
    )
    assert reponse.status_code == 200
    detenu.refresh_from_db()
    assert detenu.statut_penal == StatutPenal.CONDAMNE
    assert detenu.regime == Regime.SEMI_LIBERTE
    assert detenu.prive_de_subsides_jusquau == datetime.date(2026, 4, 1)
    # Left out: unchanged; null: cleared.
    api_a.put(f"{API}/detenus/E-42/", identite, format="json")
    detenu.refresh_from_db()
    assert detenu.prive_de_subsides_jusquau == datetime.date(2026, 4, 1)
    api_a.put(
        f"{API}/detenus/E-42/", {**identite, "prive_de_subsides_jusquau": None}, format="json"
    )
    detenu.refresh_from_db()
    assert detenu.prive_de_subsides_jusquau is None
    assert api_a.get(f"{API}/detenus/E-42/").json()["statut_penal"] == "condamne"


def test_detenu_erreurs(api_a, etab_b):
    reponse = api_a.put(f"{API}/detenus/E-1/", {"nom": "X", "regime": "inconnu"}, format="json")
    assert reponse.status_code == 400
    assert set(reponse.json()) == {"prenoms", "date_naissance", "regime"}
    DetenuFactory(etablissement=etab_b, numero_ecrou="B-7")
    assert api_a.get(f"{API}/detenus/B-7/").status_code == 404


def test_detenu_libere_409(api_a, detenu):
    Detenu.objects.filter(pk=detenu.pk).update(libere_le=datetime.date(2026, 3, 1))
    reponse = api_a.put(
        f"{API}/detenus/{detenu.numero_ecrou}/",
        {"nom": "MARTIN", "prenoms": "Paul Émile", "date_naissance": "1990-07-14"},
        format="json",
    )
    assert reponse.status_code == 409 and reponse.json()["code"] == "detenu_libere"


def test_transfert_signale_sans_mouvement_d_argent(etab_a, etab_b, detenu):
    _jeton, clair = jeton_de(etab_b)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {clair}")
    donnees = {"nom": "Martin", "prenoms": "Paul-Émile", "date_naissance": "1990-07-14"}
    reponse = client.put(f"{API}/detenus/B-900/", donnees, format="json")
    assert reponse.status_code == 409
    assert reponse.json()["code"] == "transfert_a_effectuer"
    signalement = SignalementTransfert.objects.get()
    assert signalement.detenu == detenu and signalement.etablissement_origine == etab_a
    assert signalement.etablissement_destination == etab_b
    assert not signalement.effectue
    assert not Detenu.objects.filter(etablissement=etab_b).exists()
    detenu.refresh_from_db()
    assert detenu.etablissement == etab_a
    # Reported again: still one report.
    client.put(f"{API}/detenus/B-900/", donnees, format="json")
    assert SignalementTransfert.objects.count() == 1


# --- Schema -------------------------------------------------------------------------------------


CHEMINS = {
    "/api/v1/permis/",
    "/api/v1/permis/{numero}/",
    "/api/v1/permis/{numero}/retrait/",
    "/api/v1/permis/{numero}/suspension/",
    "/api/v1/detenus/{numero_ecrou}/",
}


def test_schema_openapi():
    client = APIClient()
    reponse = client.get(f"{API}/schema/")
    assert reponse.status_code == 200
    schema = yaml.safe_load(reponse.content)
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) >= CHEMINS
    reponse = client.get(f"{API}/schema/?format=json")
    schema = json.loads(reponse.content)
    assert set(schema["paths"]) >= CHEMINS
    assert schema["components"]["securitySchemes"]["jetonEtablissement"]["scheme"] == "bearer"
    assert set(schema["paths"]["/api/v1/permis/"]["post"]["responses"]) >= {
        "201",
        "400",
        "401",
        "409",
    }


def test_schema_valide_sans_avertissement(tmp_path):
    fichier = tmp_path / "schema.yaml"
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--urlconf",
        "tests.permis.urls_test",
        "--file",
        str(fichier),
    )
    assert set(yaml.safe_load(fichier.read_text())["paths"]) >= CHEMINS
