"""Redis down when the notifications arrive: they are stored in the inbox and answered 2xx
fast; once Redis is back, the periodic re-queue has them processed, once.

Redis is "down" for the portal only: the live server's Celery app is pointed at a closed
port (the shared Redis server keeps running for everybody else)."""

import time

import pytest

from pecule.models import NotificationRecue, StatutPaiement, StatutRegie
from pecule.tasks import relancer_notifications
from regie.models import Ecriture
from tests.celery_worker import REDIS_TESTS, brancher_broker
from tests.fiabilite.conftest import CHEMIN_NOTIFICATIONS
from tests.fiabilite.outils import (
    attendre,
    attendre_notifications_traitees,
    attendre_virement,
    corps_notification,
    ecritures,
    initier,
    notifications_de_la_banque,
    poster,
    signature,
    verifier_historique_monotone,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

REDIS_FERME = "redis://127.0.0.1:1/0"  # nothing listens on port 1
DELAI_MAX_REPONSE = 5.0  # seconds: publishing must not hang


def test_redis_en_panne_notifications_gardees_puis_traitees_une_fois(
    banque, situation, worker, celery_redis, file_celery, live_server
):
    brancher_broker(REDIS_FERME, file=file_celery)
    virement = initier(situation, "130.00")
    banque.payer(virement.url_banque, issue="succes")

    # The bank delivered both notifications, answered 2xx each at the first attempt, fast.
    livrees = attendre(
        lambda: (
            liste
            if len(liste := notifications_de_la_banque(banque, virement.id_fournisseur, "livree"))
            == 2
            else None
        ),
        delai=30,
        message="the bank's notifications were not accepted",
    )
    for notification in livrees:
        (tentative,) = notification["tentatives"]
        assert tentative["code_http"] == 200
        assert tentative["duree_ms"] < DELAI_MAX_REPONSE * 1000, tentative

    # One more, posted by the test and timed here.
    autre = corps_notification(virement.id_fournisseur, "EXECUTED")
    debut = time.monotonic()
    reponse = poster(
        f"{live_server.url}{CHEMIN_NOTIFICATIONS}", autre, signature(autre, banque.secret)
    )
    duree = time.monotonic() - debut
    assert reponse.status_code == 200
    assert reponse.json() == {"recu": 1, "nouveaux": 1}
    assert duree < DELAI_MAX_REPONSE, duree

    # Stored, not processed, nothing credited, nothing in the queue.
    assert NotificationRecue.objects.count() == 3
    assert NotificationRecue.objects.filter(traitee_le__isnull=True).count() == 3
    assert celery_redis.llen(file_celery) == 0
    virement.refresh_from_db()
    assert virement.statut_paiement == StatutPaiement.INITIE
    assert Ecriture.objects.count() == 0

    # Redis is back: the periodic re-queue (beat, every minute) has them processed.
    brancher_broker(REDIS_TESTS, file=file_celery)
    relance = relancer_notifications.apply_async(args=(0,))  # never queued: no delay applies
    worker.attendre_journal(f"[{relance.id}] succeeded")
    (ligne,) = worker.lignes(f"[{relance.id}] succeeded")
    assert ligne.endswith("s: 3"), ligne  # three notifications queued again
    attendre_notifications_traitees(3)
    virement = attendre_virement(virement, lambda v: v.statut_regie == StatutRegie.CREDITE)
    assert virement.statut_paiement == StatutPaiement.EXECUTE
    assert ecritures(virement) == 1
    assert Ecriture.objects.count() == 1
    assert list(NotificationRecue.objects.values_list("tentatives", flat=True)) == [1, 1, 1]
    verifier_historique_monotone(virement)

    # A second sweep finds nothing left to do.
    assert relancer_notifications(0) == 0
