"""A worker killed (SIGKILL) in the middle of processing a notification: after the restart
the event is processed once, one ledger entry.

To kill it deterministically *inside* its database transaction, the test holds a row lock
on the detainee's account (`SELECT … FOR UPDATE`): the task has asked the bank, locked the
transfer, written `execute` / `a_crediter` and its history (not committed), locked the
permit, and waits for the account, which PostgreSQL shows in pg_stat_activity. Then:

- only the pool processes are killed: the main process sees them lost (WorkerLostError);
  with acks_late + reject_on_worker_lost the message is requeued at once;
- the whole worker (main process and pool) is killed: the message stays unacknowledged in
  Redis; a restarted worker gets it back after the visibility timeout (set short here
  through PECULE_TEST_VISIBILITY_TIMEOUT; one hour by default), or the periodic re-queue
  of the inbox (`relancer_notifications`, every minute under beat) queues it again.

Each test has its own queue (`file_isolee`) and its own workers.
"""

import pytest

from pecule.models import EvenementVirement, NotificationRecue, StatutPaiement, StatutRegie
from pecule.tasks import relancer_notifications, traiter_notification
from regie.models import CompteNominatif, Ecriture
from tests.fiabilite.conftest import CHEMIN_NOTIFICATIONS, messages_en_cours
from tests.fiabilite.outils import (
    attendre,
    attendre_attente_de_verrou,
    attendre_notifications_traitees,
    attendre_virement,
    corps_abandonnes,
    ecritures,
    initier,
    poster,
    recharger,
    signature,
    verifier_historique_monotone,
    verrou,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

VISIBILITE = 5  # seconds: more than the time a message waits for the kill in these tests


def credite(virement):
    return virement.statut_regie == StatutRegie.CREDITE


def verifier_un_seul_credit(virement):
    assert virement.statut_paiement == StatutPaiement.EXECUTE
    assert virement.statut_regie == StatutRegie.CREDITE
    assert ecritures(virement) == 1
    assert EvenementVirement.objects.filter(virement=virement, source="credit").count() == 1
    transitions = verifier_historique_monotone(virement)
    assert transitions == [("initie", "execute")]  # the killed transaction left nothing


def execution_a_notifier(banque, situation, montant="110.00"):
    """A transfer executed at the bank and the body of its EXECUTED notification (the
    bank's own deliveries are dropped: the test posts it when it wants)."""
    banque.configurer(drop=10)
    virement = initier(situation, montant)
    banque.payer(virement.url_banque, issue="succes")
    return virement, corps_abandonnes(banque, virement, 2)["EXECUTED"]


def notifier(banque, live_server, corps):
    """POST the signed notification to the live endpoint: one inbox row, one task queued."""
    reponse = poster(
        f"{live_server.url}{CHEMIN_NOTIFICATIONS}", corps, signature(corps, banque.secret)
    )
    assert reponse.json() == {"recu": 1, "nouveaux": 1}


def test_processus_du_pool_tue_pendant_la_transaction(
    banque, situation, lancer_worker, live_server
):
    worker = lancer_worker()
    virement, corps = execution_a_notifier(banque, situation)
    with verrou(CompteNominatif, situation["compte"].pk):
        notifier(banque, live_server, corps)
        attendre_attente_de_verrou("regie_comptenominatif")
        assert recharger(virement).statut_paiement == StatutPaiement.INITIE  # not committed
        assert worker.tuer_processus_du_pool()
        worker.attendre_journal("WorkerLostError")
    virement = attendre_virement(virement, credite)
    attendre_notifications_traitees(1)
    verifier_un_seul_credit(virement)
    assert NotificationRecue.objects.get().tentatives == 2
    assert worker.en_marche()


def test_worker_tue_avec_une_file_pleine_visibility_timeout(
    banque, situation, lancer_worker, live_server, redis_tests, file_isolee
):
    """20 notifications queued; the worker's two processes are in the middle of the first
    two when the whole worker is killed. The restarted worker takes the 18 left in the
    queue at once, and the 2 lost ones once their visibility timeout has passed."""
    etablissement = situation["etablissement"]
    etablissement.plafond_mensuel_par_detenu = 5000
    etablissement.save()
    banque.configurer(drop=100)
    # Distinct amounts: a second payment of the same amount still awaiting approval would
    # be the first one taken up again (issue 13).
    virements = [initier(situation, f"{10 + n}.00") for n in range(20)]
    for virement in virements:
        banque.forcer_statut(virement.id_fournisseur, "EXECUTED")
    url = f"{live_server.url}{CHEMIN_NOTIFICATIONS}"
    for virement in virements:
        corps = corps_abandonnes(banque, virement, 1)["EXECUTED"]
        assert poster(url, corps, signature(corps, banque.secret)).status_code == 200
    assert redis_tests.llen(file_isolee) == 20

    with verrou(CompteNominatif, situation["compte"].pk):
        worker = lancer_worker(visibilite=VISIBILITE)
        attendre_attente_de_verrou("regie_comptenominatif", nombre=1)
        # The second process waits for the first (same account): wait until both started.
        attendre(lambda: redis_tests.llen(file_isolee) == 18, delai=10)
        worker.tuer()
    assert messages_en_cours(redis_tests, file_isolee) == 2
    assert NotificationRecue.objects.filter(traitee_le__isnull=True).count() == 20
    assert Ecriture.objects.count() == 0

    lancer_worker(visibilite=VISIBILITE)
    attendre_notifications_traitees(20, delai=60)
    for virement in virements:
        verifier_un_seul_credit(attendre_virement(virement, credite))
    assert Ecriture.objects.count() == 20
    assert (
        sorted(NotificationRecue.objects.values_list("tentatives", flat=True)) == [1] * 18 + [2] * 2
    )
    attendre(lambda: messages_en_cours(redis_tests, file_isolee) == 0, delai=10)


def test_worker_tue_relance_periodique_de_la_boite_de_reception(
    banque, situation, lancer_worker, live_server, redis_tests, file_isolee
):
    """The default visibility timeout (15 minutes): the restarted worker does not get the
    lost message back at once; the periodic re-queue of unprocessed inbox rows does the
    work. The late redelivery of the lost message then changes nothing."""
    worker = lancer_worker()
    virement, corps = execution_a_notifier(banque, situation)
    with verrou(CompteNominatif, situation["compte"].pk):
        notifier(banque, live_server, corps)
        attendre_attente_de_verrou("regie_comptenominatif")
        worker.tuer()
    nouveau = lancer_worker()
    notification = NotificationRecue.objects.get()
    assert notification.traitee_le is None
    assert messages_en_cours(redis_tests, file_isolee) == 1  # held until the visibility timeout
    assert redis_tests.llen(file_isolee) == 0

    relance = relancer_notifications.apply_async(args=(0, 0))  # as beat does, after the delay
    nouveau.attendre_journal(f"[{relance.id}] succeeded")
    virement = attendre_virement(virement, credite)
    attendre_notifications_traitees(1)
    verifier_un_seul_credit(virement)
    assert NotificationRecue.objects.get().tentatives == 2

    rejeu = traiter_notification.apply_async(args=(notification.pk,))  # the late redelivery
    nouveau.attendre_journal(f"[{rejeu.id}] succeeded")
    verifier_un_seul_credit(recharger(virement))
    assert NotificationRecue.objects.get().tentatives == 2
