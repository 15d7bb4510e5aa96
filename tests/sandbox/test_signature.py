"""The adapter's notification checks (no sandbox process needed): the signature is
`t=<unix seconds>,v1=<hex HMAC-SHA256("<t>.<raw body>")>` with the shared secret."""

import datetime
import hashlib
import hmac
import json
import time

import pytest

from pecule.fournisseurs.base import SignatureInvalide
from pecule.fournisseurs.sandbox import FournisseurSandbox

SECRET = "le-secret-partage"
CORPS = json.dumps(
    {
        "id_evenement": "9b1d6f1e-1c1a-4c55-9d8e-3f7a0c6b2d11",
        "type": "paiement.statut",
        "paiement": {"id": "pay_123", "statut": "EXECUTED"},
        "survenu_le": "2025-03-01T10:00:00.000Z",
    },
    separators=(",", ":"),
).encode()


def signature(corps: bytes = CORPS, instant: int | None = None, secret: str = SECRET) -> str:
    instant = int(time.time()) if instant is None else instant
    mac = hmac.new(secret.encode(), f"{instant}.".encode() + corps, hashlib.sha256).hexdigest()
    return f"t={instant},v1={mac}"


@pytest.fixture
def fournisseur():
    return FournisseurSandbox(nom="sandbox", url="http://127.0.0.1:9", secret=SECRET)


def motif(fournisseur, entetes, corps=CORPS) -> str:
    with pytest.raises(SignatureInvalide) as erreur:
        fournisseur.verify_notification(entetes, corps)
    return erreur.value.motif


def test_une_signature_valide_est_acceptee(fournisseur):
    fournisseur.verify_notification({"Pecule-Signature": signature()}, CORPS)


@pytest.mark.parametrize("nom", ["pecule-signature", "PECULE-SIGNATURE", "Pecule-Signature"])
def test_l_entete_est_cherche_sans_tenir_compte_de_la_casse(fournisseur, nom):
    fournisseur.verify_notification({"Content-Type": "application/json", nom: signature()}, CORPS)


def test_signature_absente(fournisseur):
    assert motif(fournisseur, {}) == "signature_absente"
    assert motif(fournisseur, {"Pecule-Signature": ""}) == "signature_absente"


@pytest.mark.parametrize(
    "valeur",
    [
        "n'importe quoi",
        "t=123",
        "v1=" + "a" * 64,
        "t=abc,v1=" + "a" * 64,
        "t=123,v1=zz",
        "t=123,v1=" + "a" * 63,
        "t=1,t=2,v1=" + "a" * 64,
        "t=-5,v1=" + "a" * 64,
    ],
)
def test_signature_illisible(fournisseur, valeur):
    assert motif(fournisseur, {"Pecule-Signature": valeur}) == "signature_illisible"


def test_signature_forgee_avec_un_autre_secret(fournisseur):
    entetes = {"Pecule-Signature": signature(secret="pas-le-bon-secret")}
    assert motif(fournisseur, entetes) == "signature_invalide"


def test_corps_modifie_apres_signature(fournisseur):
    modifie = CORPS.replace(b"EXECUTED", b"REJECTED")
    assert motif(fournisseur, {"Pecule-Signature": signature()}, modifie) == "signature_invalide"


def test_horodatage_modifie_apres_signature(fournisseur):
    valeur = signature()
    instant = int(valeur.split(",")[0][2:])
    trafiquee = valeur.replace(f"t={instant}", f"t={instant + 1}")
    assert motif(fournisseur, {"Pecule-Signature": trafiquee}) == "signature_invalide"


def test_signature_de_six_minutes_perimee(fournisseur):
    entetes = {"Pecule-Signature": signature(instant=int(time.time()) - 360)}
    assert motif(fournisseur, entetes) == "signature_perimee"


def test_signature_datee_de_six_minutes_dans_le_futur(fournisseur):
    entetes = {"Pecule-Signature": signature(instant=int(time.time()) + 360)}
    assert motif(fournisseur, entetes) == "signature_perimee"


def test_signature_de_quatre_minutes_acceptee(fournisseur):
    fournisseur.verify_notification(
        {"Pecule-Signature": signature(instant=int(time.time()) - 240)}, CORPS
    )


def test_plusieurs_v1_dont_une_bonne(fournisseur):
    valeur = signature()
    instant, bonne = valeur.split(",")
    entetes = {"Pecule-Signature": f"{instant},v1={'0' * 64},{bonne}"}
    fournisseur.verify_notification(entetes, CORPS)


def test_sans_secret_configure_tout_est_refuse():
    fournisseur = FournisseurSandbox(nom="sandbox", secret="")
    entetes = {"Pecule-Signature": signature(secret="")}
    assert motif(fournisseur, entetes) == "secret_non_configure"


def test_parse_notification(fournisseur):
    (evenement,) = fournisseur.parse_notification(CORPS)
    assert evenement.id_evenement == "9b1d6f1e-1c1a-4c55-9d8e-3f7a0c6b2d11"
    assert evenement.id_fournisseur == "pay_123"
    assert evenement.statut == "execute"
    assert evenement.statut_brut == "EXECUTED"
    assert evenement.survenu_le == datetime.datetime(2025, 3, 1, 10, 0, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("brut", "normalise"),
    [
        ("CREATED", "initie"),
        ("AUTHORISED", "autorise"),
        ("PENDING_BANK", "autorise"),
        ("EXECUTED", "execute"),
        ("REJECTED", "refuse"),
        ("CANCELLED", "annule"),
        ("EXPIRED", "expire"),
    ],
)
def test_parse_notification_normalise_les_statuts(fournisseur, brut, normalise):
    corps = CORPS.replace(b"EXECUTED", brut.encode())
    (evenement,) = fournisseur.parse_notification(corps)
    assert (evenement.statut, evenement.statut_brut) == (normalise, brut)


@pytest.mark.parametrize(
    "corps",
    [
        b"pas du json",
        b"[]",
        b'{"type": "paiement.statut"}',
        b'{"type": "paiement.statut", "id_evenement": "e1", "paiement": {"statut": "EXECUTED"}}',
        b'{"type": "paiement.statut", "id_evenement": "e1", "paiement": {"id": "p", "statut": "BIZARRE"}}',
        b'{"type": "paiement.statut", "id_evenement": "e1", "paiement": {"id": "p", "statut": "EXECUTED"}, "survenu_le": "hier"}',
    ],
)
def test_parse_notification_refuse_un_corps_malforme(fournisseur, corps):
    with pytest.raises(ValueError):
        fournisseur.parse_notification(corps)


def test_un_type_inconnu_ne_porte_aucun_evenement(fournisseur):
    assert fournisseur.parse_notification(b'{"type": "compte.ferme", "id_evenement": "x"}') == []
