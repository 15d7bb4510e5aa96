"""The same notification many times, concurrently, in any order: one ledger entry, and a
final status never moves (real endpoint on a live server, real Redis, real worker
processes, real sandbox bank)."""

import uuid

import pytest

from pecule.models import (
    CourrielSortant,
    EvenementVirement,
    NotificationRecue,
    StatutPaiement,
    StatutRegie,
)
from regie.models import Ecriture
from tests.fiabilite.conftest import CHEMIN_NOTIFICATIONS
from tests.fiabilite.outils import (
    attendre,
    attendre_notifications_traitees,
    attendre_virement,
    corps_abandonnes,
    corps_notification,
    ecritures,
    initier,
    notifications_de_la_banque,
    poster_en_parallele,
    verifier_historique_monotone,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def credite(virement):
    return virement.statut_regie == StatutRegie.CREDITE


def verifier_un_seul_credit(virement):
    assert virement.statut_paiement == StatutPaiement.EXECUTE
    assert virement.statut_regie == StatutRegie.CREDITE
    assert ecritures(virement) == 1
    assert virement.ecriture.source == f"virement:{virement.reference}"
    assert EvenementVirement.objects.filter(virement=virement, source="credit").count() == 1
    assert CourrielSortant.objects.filter(cle=f"credite:{virement.reference}").count() == 1
    verifier_historique_monotone(virement)


def test_la_meme_notification_50_fois_en_parallele_puis_la_precedente(
    banque, situation, worker, celery_redis, live_server
):
    url = f"{live_server.url}{CHEMIN_NOTIFICATIONS}"
    banque.configurer(drop=20)  # the bank's own deliveries are lost: the test delivers them
    virement = initier(situation, "120.00")
    banque.payer(virement.url_banque, issue="succes")
    corps = corps_abandonnes(banque, virement, 2)
    assert set(corps) == {"AUTHORISED", "EXECUTED"}

    # The final event first, 50 times at once: stored once, processed once.
    reponses = poster_en_parallele(url, [corps["EXECUTED"]] * 50, banque.secret)
    assert [r.status_code for r in reponses] == [200] * 50
    assert sum(r.json()["nouveaux"] for r in reponses) == 1
    # Then the earlier event, late and 50 times too.
    reponses = poster_en_parallele(url, [corps["AUTHORISED"]] * 50, banque.secret)
    assert [r.status_code for r in reponses] == [200] * 50
    assert sum(r.json()["nouveaux"] for r in reponses) == 1

    attendre_notifications_traitees(2)
    virement = attendre_virement(virement, credite)
    verifier_un_seul_credit(virement)
    assert list(NotificationRecue.objects.values_list("tentatives", flat=True)) == [1, 1]

    # Everything again, both events mixed, once processed: nothing new.
    reponses = poster_en_parallele(
        url, [corps["AUTHORISED"], corps["EXECUTED"]] * 25, banque.secret
    )
    assert {r.status_code for r in reponses} == {200}
    assert sum(r.json()["nouveaux"] for r in reponses) == 0
    verifier_un_seul_credit(virement)


def test_cinquante_evenements_distincts_traites_en_parallele_par_le_worker(
    banque, situation, worker, celery_redis, live_server
):
    """50 distinct events (new ids) about one payment, newest first: 50 inbox rows, 50
    tasks that the worker's two processes run concurrently, racing for the transfer's row
    lock. Whatever a body says, the portal asks the bank; one ledger entry."""
    url = f"{live_server.url}{CHEMIN_NOTIFICATIONS}"
    banque.configurer(drop=20)
    virement = initier(situation, "80.00")
    banque.payer(virement.url_banque, issue="succes")
    corps_abandonnes(banque, virement, 2)

    statuts = ["EXECUTED", "AUTHORISED", "CREATED", "PENDING_BANK", "EXECUTED"] * 10
    corps = [corps_notification(virement.id_fournisseur, statut) for statut in statuts]
    reponses = poster_en_parallele(url, corps, banque.secret)
    assert [r.json()["nouveaux"] for r in reponses] == [1] * 50

    attendre_notifications_traitees(50)
    virement = attendre_virement(virement, credite)
    verifier_un_seul_credit(virement)
    assert Ecriture.objects.count() == 1


def test_la_banque_duplique_et_inverse_ses_notifications(
    banque, situation, worker, celery_redis, live_server
):
    """The sandbox's own switches: each notification sent 3 times, all of them held and
    released in reverse order (EXECUTED before PENDING_BANK)."""
    banque.configurer(duplicate=3, reorder=6, reorder_window_seconds=5)
    virement = initier(situation, "60.00")
    banque.payer(virement.url_banque, issue="attente_succes")

    livrees = attendre(
        lambda: (
            liste
            if len(liste := notifications_de_la_banque(banque, virement.id_fournisseur, "livree"))
            == 6
            else None
        ),
        delai=20,
        message="the bank did not deliver its 6 notifications",
    )
    executees = [n["livree_le"] for n in livrees if n["statut"] == "EXECUTED"]
    en_attente = [n["livree_le"] for n in livrees if n["statut"] == "PENDING_BANK"]
    assert len(executees) == len(en_attente) == 3
    assert max(executees) <= min(en_attente)  # the later status arrived first
    assert {t["code_http"] for n in livrees for t in n["tentatives"]} == {200}

    attendre_notifications_traitees(2)
    virement = attendre_virement(virement, credite)
    verifier_un_seul_credit(virement)


def test_un_statut_final_ne_bouge_plus(banque, situation, worker, celery_redis, live_server):
    """After execution and credit, the bank announces (forced) a pending status, a
    creation, a refusal, a cancellation, an expiry: each notification is processed, the
    transfer stays executed and credited once. A success after a refusal is flagged, not
    applied."""
    virement = initier(situation, "90.00")
    banque.payer(virement.url_banque, issue="succes")
    attendre_notifications_traitees(2)
    virement = attendre_virement(virement, credite)

    for rang, statut in enumerate(
        ["PENDING_BANK", "CREATED", "REJECTED", "CANCELLED", "EXPIRED"], start=3
    ):
        banque.forcer_statut(virement.id_fournisseur, statut)
        attendre_notifications_traitees(rang)
        virement.refresh_from_db()
        assert virement.statut_paiement == StatutPaiement.EXECUTE
    assert not virement.a_verifier
    verifier_un_seul_credit(virement)

    refuse = initier(situation, "40.00")
    banque.payer(refuse.url_banque, issue="refus")
    refuse = attendre_virement(refuse, lambda v: v.statut_paiement == StatutPaiement.REFUSE)
    attendre_notifications_traitees(8)
    banque.forcer_statut(refuse.id_fournisseur, "EXECUTED", motif="succès après refus")
    refuse = attendre_virement(refuse, lambda v: v.a_verifier)
    attendre_notifications_traitees(9)
    assert refuse.statut_paiement == StatutPaiement.REFUSE
    assert refuse.statut_regie == StatutRegie.AUCUN
    assert ecritures(refuse) == 0
    verifier_historique_monotone(refuse)
    assert CourrielSortant.objects.filter(cle=f"refuse:{refuse.reference}").count() == 1
    assert Ecriture.objects.count() == 1


def test_evenement_d_un_paiement_inconnu_sans_effet(
    banque, situation, worker, celery_redis, live_server
):
    """A correctly signed event about a payment the portal does not know: stored,
    processed, nothing else."""
    url = f"{live_server.url}{CHEMIN_NOTIFICATIONS}"
    corps = corps_notification(f"pay_{uuid.uuid4().hex}", "EXECUTED")
    (reponse,) = poster_en_parallele(url, [corps], banque.secret)
    assert reponse.json() == {"recu": 1, "nouveaux": 1}
    attendre_notifications_traitees(1)
    assert Ecriture.objects.count() == 0
