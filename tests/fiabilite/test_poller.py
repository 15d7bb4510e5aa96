"""Notifications that never arrive (the sandbox's `drop` switch): the poller settles the
transfer. An abandoned transfer is marked expired only once the bank says so.

The poller's schedule is 1, 5, 15, 60 minutes after creation: the test moves the
transfer's next check (`prochaine_verification`) to now instead of waiting a minute, then
sends the periodic task `verifier_virements_en_cours` to the real worker, as beat does."""

import datetime

import pytest
from django.utils import timezone

from pecule.models import (
    CourrielSortant,
    EvenementVirement,
    NotificationRecue,
    StatutPaiement,
    StatutRegie,
    Virement,
)
from pecule.tasks import verifier_virements_en_cours
from regie.models import Ecriture
from tests.fiabilite.outils import (
    attendre,
    attendre_virement,
    ecritures,
    initier,
    notifications_de_la_banque,
    recharger,
    verifier_historique_monotone,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def echeance_atteinte(virement) -> None:
    Virement.objects.filter(pk=virement.pk).update(
        prochaine_verification=timezone.now() - datetime.timedelta(seconds=1)
    )


def interroger(worker, virement) -> Virement:
    """One run of the periodic poll, by the worker; returns the transfer once checked."""
    avant = recharger(virement).verifications
    tache = verifier_virements_en_cours.apply_async()
    worker.attendre_journal(f"[{tache.id}] succeeded")
    return attendre_virement(virement, lambda v: v.verifications > avant)


def test_notifications_perdues_le_poller_credite(
    banque, situation, worker, celery_redis, live_server
):
    banque.configurer(drop=10)
    virement = initier(situation, "70.00")
    banque.payer(virement.url_banque, issue="succes")
    attendre(
        lambda: len(notifications_de_la_banque(banque, virement.id_fournisseur, "abandonnee")) == 2,
        delai=10,
    )
    assert NotificationRecue.objects.count() == 0
    # Not due yet (a minute after creation): the poll leaves it alone.
    assert verifier_virements_en_cours() == 0
    assert recharger(virement).statut_paiement == StatutPaiement.INITIE

    echeance_atteinte(virement)
    virement = interroger(worker, virement)
    virement = attendre_virement(virement, lambda v: v.statut_regie == StatutRegie.CREDITE)
    assert virement.statut_paiement == StatutPaiement.EXECUTE
    assert virement.verifications == 1
    assert virement.prochaine_verification is None  # final: never polled again
    assert ecritures(virement) == 1
    (execution,) = EvenementVirement.objects.filter(virement=virement, apres="execute")
    assert execution.source == "interrogation"
    assert CourrielSortant.objects.filter(cle=f"credite:{virement.reference}").count() == 1
    verifier_historique_monotone(virement)
    assert NotificationRecue.objects.count() == 0


def test_virement_abandonne_expire_seulement_quand_la_banque_le_dit(
    banque, situation, worker, celery_redis, live_server
):
    expiration = 6  # seconds, at the sandbox
    banque.configurer(drop=10, expiration_seconds=expiration)
    virement = initier(situation, "50.00")
    cree = timezone.now()
    assert banque.payer(virement.url_banque, issue="abandon") is None  # no redirect

    # The portal's own idea of the expiry has passed, the bank still says CREATED.
    Virement.objects.filter(pk=virement.pk).update(
        expire_le=timezone.now() - datetime.timedelta(minutes=1)
    )
    echeance_atteinte(virement)
    virement = interroger(worker, virement)
    assert (timezone.now() - cree).total_seconds() < expiration, "too slow: expired already"
    assert virement.statut_brut == "CREATED"
    assert virement.statut_paiement == StatutPaiement.INITIE

    # The bank expires it (its notification is dropped); the next poll marks it expired.
    attendre(
        lambda: banque.paiement(virement.id_fournisseur)["statut"] == "EXPIRED",
        delai=expiration + 10,
        pas=0.2,
    )
    echeance_atteinte(virement)
    virement = interroger(worker, virement)
    assert virement.statut_paiement == StatutPaiement.EXPIRE
    assert virement.statut_regie == StatutRegie.AUCUN
    assert virement.prochaine_verification is None
    assert virement.verifications == 2
    assert [(e.avant, e.apres, e.source) for e in virement.evenements.all()][1:] == [
        ("initie", "expire", "interrogation")
    ]
    assert Ecriture.objects.count() == 0
    assert NotificationRecue.objects.count() == 0
    # Final: the poll does not pick it any more.
    assert verifier_virements_en_cours() == 0
