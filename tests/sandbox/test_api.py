"""The sandbox bank's provider API through the portal's adapter (FournisseurSandbox): payment
creation and idempotency, validation errors, authentication, error classes."""

import datetime
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from pecule.fournisseurs.base import ErreurFournisseur, Payeur
from pecule.fournisseurs.sandbox import FournisseurSandbox

from .aides import IBAN_REGIE, URL_RETOUR, creer


def test_creation_d_un_paiement(banque, fournisseur):
    avant = datetime.datetime.now(datetime.UTC)
    paiement = creer(fournisseur, montant=Decimal("25"))
    assert paiement.id_fournisseur.startswith("pay_")
    assert paiement.url_redirection == f"{banque.url}/paiement/{paiement.id_fournisseur}"
    # Default expiry: 15 minutes.
    delai = paiement.expire_le - avant
    assert datetime.timedelta(minutes=14) < delai <= datetime.timedelta(minutes=15, seconds=5)
    etat = fournisseur.get_payment(paiement.id_fournisseur)
    assert (etat.statut, etat.statut_brut, etat.motif) == ("initie", "CREATED", "")
    detail = banque.paiement(paiement.id_fournisseur)
    assert detail["montant"] == "25.00"
    assert detail["creancier_iban"] == IBAN_REGIE
    assert detail["payeur"] == {"nom": "Angela Claire Louise DUBOIS", "email": "angela@example.fr"}
    assert detail["url_retour"] == URL_RETOUR
    assert [h["vers"] for h in detail["historique"]] == ["CREATED"]


def test_meme_cle_d_idempotence_meme_paiement(banque, fournisseur):
    cle = uuid.uuid4().hex
    premier = creer(fournisseur, cle_idempotence=cle)
    second = creer(fournisseur, cle_idempotence=cle)
    assert second == premier
    reponse = banque.api(
        "POST",
        "/api/paiements",
        json={
            "montant": "12.50",
            "creancier_nom": "Régie",
            "creancier_iban": IBAN_REGIE,
            "reference_bout_en_bout": "PEC-ABCD-EFGH",
            "libelle": "x",
            "payeur": {"nom": "A"},
            "url_retour": URL_RETOUR,
            "cle_idempotence": cle,
        },
    )
    assert reponse.status_code == 200
    assert reponse.json()["id"] == premier.id_fournisseur
    assert len(banque.api("GET", "/__admin__/paiements").json()) == 1


def test_creations_concurrentes_avec_la_meme_cle(banque, fournisseur):
    cle = uuid.uuid4().hex
    with ThreadPoolExecutor(max_workers=8) as groupe:
        resultats = list(groupe.map(lambda _: creer(fournisseur, cle_idempotence=cle), range(16)))
    assert len({r.id_fournisseur for r in resultats}) == 1
    assert len(banque.api("GET", "/__admin__/paiements").json()) == 1


def test_la_cle_reutilisee_pour_un_autre_montant_est_refusee(fournisseur):
    cle = uuid.uuid4().hex
    creer(fournisseur, cle_idempotence=cle)
    with pytest.raises(ErreurFournisseur) as erreur:
        creer(fournisseur, cle_idempotence=cle, montant=Decimal("99.00"))
    assert erreur.value.transitoire is False
    assert "cle_idempotence_reutilisee" in str(erreur.value)


def test_erreurs_de_validation_precises(banque):
    reponse = banque.api(
        "POST",
        "/api/paiements",
        json={
            "montant": 12.5,
            "creancier_nom": "",
            "creancier_iban": "FR76 3000 6000 0112 3456 7890 180",
            "reference_bout_en_bout": "X" * 36,
            "libelle": "L" * 141,
            "payeur": {"nom": "A", "email": "pas-un-courriel"},
            "url_retour": "/relatif",
        },
    )
    assert reponse.status_code == 400
    corps = reponse.json()
    assert corps["erreur"] == "requete_invalide"
    assert set(corps["champs"]) == {
        "montant",
        "creancier_nom",
        "creancier_iban",
        "reference_bout_en_bout",
        "libelle",
        "payeur.email",
        "url_retour",
        "cle_idempotence",
    }
    assert "35" in corps["champs"]["reference_bout_en_bout"]
    assert "140" in corps["champs"]["libelle"]


@pytest.mark.parametrize(
    ("montant", "accepte"),
    [
        ("0.01", True),
        ("12.5", True),
        ("0", False),
        ("-3.00", False),
        ("1.234", False),
        ("1e3", False),
    ],
)
def test_format_du_montant(banque, montant, accepte):
    reponse = banque.api(
        "POST",
        "/api/paiements",
        json={
            "montant": montant,
            "creancier_nom": "Régie",
            "creancier_iban": IBAN_REGIE,
            "reference_bout_en_bout": "PEC-ABCD-EFGH",
            "libelle": "x",
            "payeur": {"nom": "A"},
            "url_retour": URL_RETOUR,
            "cle_idempotence": uuid.uuid4().hex,
        },
    )
    assert reponse.status_code == (201 if accepte else 400), reponse.text


def test_corps_non_json(banque):
    reponse = banque.api("POST", "/api/paiements", data=b"montant=12", headers={})
    assert reponse.status_code == 400
    assert reponse.json()["erreur"] == "json_invalide"


def test_authentification_obligatoire(banque):
    reponse = banque.api("GET", "/api/paiements/pay_x", headers={"Authorization": "Bearer faux"})
    assert reponse.status_code == 401
    assert banque.api("GET", "/__admin__/config", headers={"Authorization": ""}).status_code == 401
    mauvais = FournisseurSandbox(nom="sandbox", url=banque.url, secret="faux")
    with pytest.raises(ErreurFournisseur) as erreur:
        mauvais.get_payment("pay_x")
    assert erreur.value.transitoire is False


def test_paiement_inconnu(fournisseur):
    with pytest.raises(ErreurFournisseur) as erreur:
        fournisseur.get_payment("pay_inconnu")
    assert erreur.value.transitoire is False
    assert "404" in str(erreur.value)


@pytest.mark.parametrize("code", [503, 500, 429])
def test_panne_simulee_erreur_transitoire(banque, fournisseur, code):
    banque.configurer(api_failures=2, api_failure_status=code)
    for _ in range(2):
        with pytest.raises(ErreurFournisseur) as erreur:
            creer(fournisseur)
        assert erreur.value.transitoire is True
    assert creer(fournisseur).id_fournisseur


def test_sandbox_injoignable_erreur_transitoire():
    fournisseur = FournisseurSandbox(nom="sandbox", url="http://127.0.0.1:9", secret="s", timeout=2)
    with pytest.raises(ErreurFournisseur) as erreur:
        fournisseur.get_payment("pay_x")
    assert erreur.value.transitoire is True


def test_delai_depasse_erreur_transitoire():
    """A server that accepts the connection and never answers: the timeout applies."""
    serveur = socket.socket()
    serveur.bind(("127.0.0.1", 0))
    serveur.listen(1)
    try:
        fournisseur = FournisseurSandbox(
            nom="sandbox",
            url=f"http://127.0.0.1:{serveur.getsockname()[1]}",
            secret="s",
            timeout=0.5,
        )
        with pytest.raises(ErreurFournisseur) as erreur:
            fournisseur.create_payment(
                montant=Decimal("1.00"),
                creancier_nom="R",
                creancier_iban=IBAN_REGIE,
                reference_bout_en_bout="R1",
                libelle="L",
                payeur=Payeur(nom="N"),
                url_retour=URL_RETOUR,
                cle_idempotence="k",
            )
        assert erreur.value.transitoire is True
    finally:
        serveur.close()


def test_config_validee(banque):
    reponse = banque.api("POST", "/__admin__/config", json={"duplicate": 0, "inconnu": 1})
    assert reponse.status_code == 400
    assert set(reponse.json()["champs"]) == {"duplicate", "inconnu"}
    assert banque.config()["duplicate"] == 1


def test_sante(banque):
    import requests

    assert requests.get(f"{banque.url}/health", timeout=5).json() == {"statut": "ok"}
