"""The notification endpoint under abuse (issue 11 items 6 and 7): whatever is posted, the
answer is a 2xx or a 4xx, never a 5xx; refusals are counted, aggregated and expired, and
an address that keeps being refused stops being recorded at all."""

import datetime
import hashlib
import hmac
import json
import time
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from pecule import fournisseurs
from pecule.models import NotificationRecue, NotificationRejetee
from pecule.notifications import REJETS_PAR_MINUTE, TAILLE_MAX_CORPS
from pecule.tasks import supprimer_rejets

pytestmark = pytest.mark.django_db

SECRET = "secret-des-tests-de-notification"
URL = "/paiements/notifications/sandbox/"


@pytest.fixture(autouse=True)
def sandbox(settings):
    settings.PECULE_FOURNISSEURS = {
        "sandbox": {
            "CLASSE": "pecule.fournisseurs.sandbox.FournisseurSandbox",
            "OPTIONS": {"url": "http://127.0.0.1:1", "secret": SECRET},
        }
    }
    fournisseurs.reinitialiser()
    yield
    fournisseurs.reinitialiser()


def signature(corps: bytes) -> str:
    t = int(time.time())
    return f"t={t},v1={hmac.new(SECRET.encode(), f'{t}.'.encode() + corps, hashlib.sha256).hexdigest()}"


def corps_json(id_evenement=None, id_paiement="sbx-1", statut="EXECUTED", **autres) -> bytes:
    return json.dumps(
        {
            "id_evenement": id_evenement or str(uuid.uuid4()),
            "type": "paiement.statut",
            "paiement": {"id": id_paiement, "statut": statut},
            "survenu_le": "2026-07-01T00:30:00+02:00",
            **autres,
        }
    ).encode()


def poster(corps: bytes, *, signer=True, client=None, **extra):
    entetes = {"HTTP_PECULE_SIGNATURE": signature(corps)} if signer else {}
    return (client or Client()).post(
        URL, data=corps, content_type="application/json", **entetes, **extra
    )


def test_corps_bien_signe_accepte(time_machine):
    reponse = poster(corps_json())
    assert reponse.status_code == 200 and reponse.json() == {"recu": 1, "nouveaux": 1}


@pytest.mark.parametrize(
    ("corps", "motif"),
    [
        (corps_json(id_evenement="e" * 101), "identifiant_evenement_invalide"),
        (corps_json(id_paiement="p" * 101), "identifiant_paiement_invalide"),
        # JSON in UTF-16 (json.loads reads it) is not UTF-8: the inbox keeps text.
        (corps_json().decode().encode("utf-16"), "corps_non_utf8"),
        (corps_json(id_evenement="a\x00b"), "identifiant_evenement_invalide"),
        (corps_json(survenu_le=12), "corps_illisible"),
        (b'{"id_evenement": "x", "type": "paiement.statut", "paiement": [1]}', "corps_illisible"),
        (b"\xff\xfe\x00garbage", "corps_illisible"),
    ],
    ids=["id_evenement_101", "id_paiement_101", "utf16", "nul", "date", "paiement", "octets"],
)
def test_corps_bien_signe_inutilisable_rejete_en_4xx(corps, motif):
    """Issue 11 item 7: an event id longer than the column, or a body that is not UTF-8,
    answered 500 and the provider retried for ever. Now: 400, recorded as rejected,
    nothing in the inbox."""
    reponse = poster(corps)
    assert reponse.status_code == 400, reponse.content
    assert reponse.json() == {"erreur": motif}
    rejet = NotificationRejetee.objects.get()
    assert (rejet.motif, rejet.nombre, rejet.fournisseur) == (motif, 1, "sandbox")
    assert "\x00" not in rejet.extrait
    assert NotificationRecue.objects.count() == 0


def test_rejet_non_signe_avec_un_caractere_nul_enregistre_sans_erreur():
    """The refused body's start is stored as text: a NUL byte answered 500 on the
    rejected path itself (PostgreSQL text refuses it)."""
    reponse = poster(b'{"a": "\x00"}', signer=False)
    assert reponse.status_code == 400
    assert NotificationRejetee.objects.get().extrait == '{"a": "\ufffd"}'


def test_corps_trop_volumineux_413_sans_lecture():
    corps = corps_json(remplissage="x" * TAILLE_MAX_CORPS)
    reponse = poster(corps)
    assert reponse.status_code == 413
    assert reponse.json() == {"erreur": "corps_trop_volumineux"}
    assert NotificationRejetee.objects.get().motif == "corps_trop_volumineux"
    assert NotificationRecue.objects.count() == 0


def test_rejets_agreges_limites_puis_expires(time_machine, settings):
    """Issue 11 item 6: 300 anonymous POSTs stored 300 rows. Now one row per provider,
    reason, address and hour counts them; beyond REJETS_PAR_MINUTE a minute an address
    gets 429 and nothing is recorded; rows are deleted after the retention."""
    time_machine.move_to(datetime.datetime(2026, 7, 1, 10, 0, 5, tzinfo=datetime.UTC), tick=False)
    client = Client()
    codes = [poster(b"{}", signer=False, client=client).status_code for _ in range(300)]
    assert codes == [400] * REJETS_PAR_MINUTE + [429] * (300 - REJETS_PAR_MINUTE)
    rejet = NotificationRejetee.objects.get()
    assert (rejet.motif, rejet.nombre, rejet.adresse_ip) == (
        "signature_absente",
        REJETS_PAR_MINUTE,
        "127.0.0.1",
    )
    # Another address, another reason: rows of their own; the next minute counts again.
    poster(b"{}", signer=False, client=client, REMOTE_ADDR="192.0.2.9")
    time_machine.shift(datetime.timedelta(minutes=1))
    assert poster(corps_json(id_evenement="e" * 101), client=client).status_code == 400
    assert poster(b"{}", signer=False, client=client).status_code == 400
    assert NotificationRejetee.objects.count() == 3
    assert NotificationRejetee.objects.get(
        adresse_ip="127.0.0.1", motif="signature_absente"
    ).nombre == (REJETS_PAR_MINUTE + 1)
    # The next hour: a new row; after the retention, all gone.
    time_machine.shift(datetime.timedelta(hours=1))
    poster(b"{}", signer=False, client=client)
    assert NotificationRejetee.objects.count() == 4
    time_machine.shift(datetime.timedelta(days=settings.PECULE_RETENTION_REJETS_JOURS, hours=1))
    poster(b"{}", signer=False, client=client)
    assert supprimer_rejets() == 4
    assert NotificationRejetee.objects.count() == 1
    assert NotificationRejetee.objects.get().derniere_le == timezone.now()
