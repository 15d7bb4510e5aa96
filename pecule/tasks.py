"""Celery tasks of the payments: notifications, polling, emails. Thin wrappers around the
services; every task is safe to run twice (acks_late: a task may be delivered again)."""

import logging

from celery import shared_task
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from socle.taches import publier

from .fournisseurs.base import ErreurFournisseur
from .models import CourrielSortant, NotificationRecue, StatutPaiement, Virement
from .services import actualiser_virement, boite
from .services.etats import clore_virements_jamais_crees
from .services.rejets import supprimer_rejets_anciens

logger = logging.getLogger(__name__)


class ErreurTransitoire(Exception):
    """A provider error worth retrying (network, 5xx, 429)."""


RELANCE = {
    "autoretry_for": (ErreurTransitoire,),
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 10,
}
# Re-queue an unprocessed inbox row only when its task has not been queued for this long
# (a task still waiting in a backlog is not queued twice).
DELAI_AVANT_RELANCE = timezone.timedelta(minutes=5)
TENTATIVES_MAX = boite.TENTATIVES_MAX


@shared_task(**RELANCE)
def traiter_notification(notification_id: int) -> None:
    """Process one stored notification: re-ask the provider, apply the state machine.
    Transient provider errors are retried with back-off; a permanent one is recorded on
    the row, which is then left for a person (never re-queued forever). Then, while at
    it, process a batch of the other waiting rows (`services.boite`): under a backlog the
    tasks queued for those rows find them done or reserved, and take a batch of their own
    (the worker's processes then credit side by side)."""
    prise = boite.prendre(notification_id)
    if prise is None:  # processed, abandoned, or reserved by a batch: help with the rest
        boite.traiter_lot()
        return
    try:
        boite.traiter_une(prise)
    except ErreurFournisseur as exc:
        if boite.noter_erreur(prise, exc):
            return
        raise ErreurTransitoire(str(exc)) from exc
    boite.traiter_lot()


@shared_task
def traiter_notifications(limite: int | None = None) -> int:
    """Process a batch of waiting inbox rows (at most PECULE_NOTIFICATIONS_PAR_LOT)."""
    return boite.traiter_lot(limite)


def publier_notification(notification_id: int) -> None:
    """Queue the processing of one inbox row just stored: the endpoint wrote the row with
    its time of queueing (`mise_en_file_le`, one INSERT); when the broker is down that
    time is cleared, for the sweep (`relancer_notifications`) to queue it again."""
    if not publier(traiter_notification, notification_id):
        NotificationRecue.objects.filter(pk=notification_id).update(mise_en_file_le=None)


@shared_task
def relancer_notifications(
    age_secondes: int = 60, delai_relance_secondes: int | None = None
) -> int:
    """Re-queue the inbox events left unprocessed (worker crash, broker down), except those
    whose task was queued less than `delai_relance_secondes` ago (default
    DELAI_AVANT_RELANCE): a task still waiting in a backlog is not queued twice."""
    maintenant = timezone.now()
    delai = (
        DELAI_AVANT_RELANCE
        if delai_relance_secondes is None
        else timezone.timedelta(seconds=delai_relance_secondes)
    )
    ids = list(
        NotificationRecue.objects.filter(
            traitee_le__isnull=True,
            abandonnee_le__isnull=True,
            recue_le__lt=maintenant - timezone.timedelta(seconds=age_secondes),
        )
        .filter(Q(mise_en_file_le__isnull=True) | Q(mise_en_file_le__lt=maintenant - delai))
        .order_by("recue_le")
        .values_list("pk", flat=True)[:1000]
    )
    publiees = [pk for pk in ids if publier(traiter_notification, pk)]
    if publiees:
        NotificationRecue.objects.filter(pk__in=publiees).update(mise_en_file_le=timezone.now())
    return len(ids)


@shared_task(**RELANCE)
def verifier_virement(virement_id: int) -> None:
    """Ask the provider about one transfer (the poller)."""
    virement = Virement.objects.get(pk=virement_id)
    if virement.est_final or not virement.id_fournisseur:
        return
    try:
        actualiser_virement(virement=virement, origine="interrogation")
    except ErreurFournisseur as exc:
        if exc.transitoire:
            raise ErreurTransitoire(str(exc)) from exc
        logger.error("Transfer %s: the provider refused the status request: %s", virement, exc)
        # asked again at the next scheduled check


@shared_task
def verifier_virements_en_cours() -> int:
    """Poll the non-final transfers whose next check is due (1, 5, 15, 60 min, then every
    few hours for 3 days). A transfer is marked expired only when the provider says so.
    Those the provider never created are closed (`clore_virements_jamais_crees`)."""
    clore_virements_jamais_crees()
    ids = list(
        Virement.objects.filter(
            statut_paiement__in=[StatutPaiement.INITIE, StatutPaiement.AUTORISE],
            id_fournisseur__isnull=False,
            prochaine_verification__lte=timezone.now(),
        ).values_list("pk", flat=True)[:500]
    )
    for virement_id in ids:
        publier(verifier_virement, virement_id)
    return len(ids)


@shared_task
def supprimer_rejets() -> int:
    """Forget the refused notifications older than PECULE_RETENTION_REJETS_JOURS."""
    return supprimer_rejets_anciens()


@shared_task
def envoyer_courriels(limite: int = 1000) -> int:
    """Drain the outbox (beat, every minute: no task is queued per email), each email
    once: its row locked, skipped by concurrent senders, marked sent in the transaction
    that sent it; one SMTP connection for the whole run. At most `limite` emails a run."""
    from django.core.mail import get_connection, send_mail

    envoyes = 0
    with get_connection() as smtp:
        while envoyes < limite:
            with transaction.atomic():
                courriel = (
                    CourrielSortant.objects.select_for_update(skip_locked=True)
                    .filter(envoye_le__isnull=True, tentatives__lt=10)
                    .order_by("cree_le")
                    .first()
                )
                if courriel is None:
                    return envoyes
                courriel.tentatives += 1
                try:
                    send_mail(
                        courriel.sujet,
                        courriel.corps,
                        None,
                        [courriel.destinataire],
                        connection=smtp,
                    )
                except Exception as exc:  # recorded, retried by the next run
                    courriel.derniere_erreur = str(exc)[:1000]
                    courriel.save(update_fields=["tentatives", "derniere_erreur"])
                    return envoyes
                courriel.envoye_le = timezone.now()
                courriel.save(update_fields=["tentatives", "envoye_le"])
                envoyes += 1
    return envoyes


@shared_task
def alerter_virements_sans_releve(delai_jours_ouvres: int = 3) -> int:
    """Alert on transfers executed by the bank but found in no statement after a few
    business days: the money may not have reached the régie's account."""
    from .rapprochement.services import virements_executes_sans_ligne

    virements = list(virements_executes_sans_ligne(None, delai_jours_ouvres))
    for virement in virements:
        logger.warning(
            "Transfer %s executed on %s but in no bank statement after %s business days",
            virement.reference,
            virement.execute_le,
            delai_jours_ouvres,
        )
    return len(virements)
