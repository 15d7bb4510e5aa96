"""The inbox of the providers' notifications (`NotificationRecue`), processed by batches.

A row is processed in two steps: the provider is asked for each payment the notification
names (`get_payment`, plain HTTP, no database), then, in one transaction per row, the
state machine is applied (`etats.appliquer_etat`, which credits) and the row is marked
processed. The provider calls of a batch run concurrently in a pool of threads (each with
its own keep-alive HTTP session), so a slow provider does not stall the worker: the
credits themselves stay in the worker's thread, on its one database connection, each in
its own transaction, as before.

Who takes a row:
- `prendre(pk)`: the task queued for that row (`tasks.traiter_notification`, by the
  endpoint, the sweep or a redelivery). It counts an attempt and stamps
  `traitement_depuis`; it skips a row a batch has reserved.
- `reserver_lot(n)`: a batch, after the task's own row, takes up to n more rows at once
  (`FOR UPDATE SKIP LOCKED`), counts an attempt for each and reserves them for
  BAIL_LOT (`reservee_jusqu_au`); it skips the rows a task took a moment ago.
A worker killed mid-batch leaves its reservations to expire: the next batch, or the
sweep's task, takes them again. Crediting stays exactly-once whoever takes a row (the
transfer's row lock, its final statuses and the ledger's unique source).
"""

from __future__ import annotations

import datetime
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ..fournisseurs import fournisseur
from ..fournisseurs.base import ErreurFournisseur, EtatPaiement
from ..models import NotificationRecue, Virement
from .etats import appliquer_etat

logger = logging.getLogger(__name__)

TENTATIVES_MAX = 20
# A batch's reservation of its rows: far above the time a batch takes.
BAIL_LOT = datetime.timedelta(seconds=60)
# A row a task took less than this ago is left to that task by the batches.
ECART_TACHE = datetime.timedelta(seconds=60)
# A batch stops taking its rows after this long, well within the tasks' time limit.
DUREE_MAX_LOT = datetime.timedelta(seconds=45)

TABLE = NotificationRecue._meta.db_table


@dataclass(frozen=True, slots=True)
class Prise:
    """A row taken for processing."""

    pk: int
    fournisseur: str
    corps: str
    tentatives: int


def _prises(sql: str, parametres: list) -> list[Prise]:
    with connection.cursor() as curseur:
        curseur.execute(sql, parametres)
        return [Prise(*ligne) for ligne in curseur.fetchall()]


def prendre(notification_id: int) -> Prise | None:
    """Take one row for its task: one UPDATE … RETURNING that counts the attempt, or None
    when the row is processed, abandoned, or reserved by a batch that will process it."""
    maintenant = timezone.now()
    prises = _prises(
        f"UPDATE {TABLE} SET tentatives = tentatives + 1, traitement_depuis = %s "  # noqa: S608
        "WHERE id = %s AND traitee_le IS NULL AND abandonnee_le IS NULL "
        "AND (reservee_jusqu_au IS NULL OR reservee_jusqu_au <= %s) "
        "RETURNING id, fournisseur, corps, tentatives",
        [maintenant, notification_id, maintenant],
    )
    return prises[0] if prises else None


def reserver_lot(limite: int) -> list[Prise]:
    """Take up to `limite` waiting rows, oldest first, in one statement: rows locked by
    another transaction are skipped (`FOR UPDATE SKIP LOCKED`), so are the rows reserved
    by another batch or taken by a task a moment ago."""
    if limite < 1:
        return []
    maintenant = timezone.now()
    verrou = (
        " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    )
    prises = _prises(
        f"UPDATE {TABLE} SET tentatives = tentatives + 1, reservee_jusqu_au = %s "  # noqa: S608
        f"WHERE id IN (SELECT id FROM {TABLE} "
        "WHERE traitee_le IS NULL AND abandonnee_le IS NULL "
        "AND (reservee_jusqu_au IS NULL OR reservee_jusqu_au <= %s) "
        "AND (traitement_depuis IS NULL OR traitement_depuis <= %s) "
        f"ORDER BY recue_le LIMIT %s{verrou}) "
        "RETURNING id, fournisseur, corps, tentatives",
        [maintenant + BAIL_LOT, maintenant, maintenant - ECART_TACHE, limite],
    )
    return sorted(prises, key=lambda prise: prise.pk)  # RETURNING keeps no order: oldest first


# --- Provider calls, concurrent -------------------------------------------------------

_pool: ThreadPoolExecutor | None = None


def _appels() -> ThreadPoolExecutor:
    """The process's pool of provider calls, created on first use (after the fork of a
    prefork worker). Its threads only speak HTTP: they never touch the database."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(
            max_workers=settings.PECULE_APPELS_FOURNISSEUR_SIMULTANES,
            thread_name_prefix="fournisseur",
        )
    return _pool


@dataclass
class _Travail:
    prise: Prise
    appels: list[tuple[int, Future]]  # (transfer id, future of its EtatPaiement)
    erreur: Exception | None = None


def _preparer(prises: list[Prise]) -> list[_Travail]:
    """Read each row's events, find their transfers (one query for the batch) and start
    the provider calls."""
    travaux, evenements = [], []
    for prise in prises:
        try:
            lus = fournisseur(prise.fournisseur).parse_notification(prise.corps.encode())
        except Exception as exc:
            erreur = ErreurFournisseur(f"notification illisible : {exc}", transitoire=False)
            travaux.append(_Travail(prise, [], erreur=erreur))
            continue
        travaux.append(_Travail(prise, []))
        evenements.append((travaux[-1], lus))
    cles = {(t.prise.fournisseur, e.id_fournisseur) for t, lus in evenements for e in lus}
    virements = {}
    if cles:
        par_fournisseur: dict[str, set[str]] = {}
        for nom, identifiant in cles:
            par_fournisseur.setdefault(nom, set()).add(identifiant)
        for nom, identifiants in par_fournisseur.items():
            for pk, identifiant in Virement.objects.filter(
                fournisseur=nom, id_fournisseur__in=identifiants
            ).values_list("pk", "id_fournisseur"):
                virements[nom, identifiant] = pk
    for travail, lus in evenements:
        prestataire = fournisseur(travail.prise.fournisseur)
        for evenement in lus:
            pk = virements.get((travail.prise.fournisseur, evenement.id_fournisseur))
            if pk is None:
                logger.warning("Notification %s for an unknown payment", travail.prise.pk)
                continue
            travail.appels.append(
                (pk, _appels().submit(prestataire.get_payment, evenement.id_fournisseur))
            )
    return travaux


def _appliquer(travail: _Travail) -> None:
    """Wait for the row's provider answers, then apply them and mark the row processed,
    in one transaction. Raises the provider's error, nothing written."""
    if travail.erreur is not None:
        raise travail.erreur
    etats: list[tuple[int, EtatPaiement]] = [(pk, f.result()) for pk, f in travail.appels]
    with transaction.atomic():
        for pk, etat in etats:
            appliquer_etat(virement=Virement(pk=pk), etat=etat, origine="notification")
        NotificationRecue.objects.filter(pk=travail.prise.pk, traitee_le__isnull=True).update(
            traitee_le=timezone.now(), reservee_jusqu_au=None
        )


def noter_erreur(prise: Prise, exc: Exception, *, reessayer_dans=None) -> bool:
    """Record a failed attempt on the row; True when it is abandoned (permanent error or
    too many attempts), for a person to look at. `reessayer_dans`: for a batch's row, the
    reservation is kept that long (the back-off before a batch takes it again)."""
    transitoire = isinstance(exc, ErreurFournisseur) and exc.transitoire
    definitive = not transitoire or prise.tentatives >= TENTATIVES_MAX
    maintenant = timezone.now()
    champs = {
        "derniere_erreur": str(exc)[:1000],
        "abandonnee_le": maintenant if definitive else None,
    }
    if reessayer_dans is not None:
        champs["reservee_jusqu_au"] = None if definitive else maintenant + reessayer_dans
    NotificationRecue.objects.filter(pk=prise.pk).update(**champs)
    if definitive:
        logger.error("Notification %s abandoned: %s", prise.pk, exc)
    return definitive


def traiter_une(prise: Prise) -> None:
    """Process the row its task took; raises the provider's error (the task records it
    and retries a transient one)."""
    (travail,) = _preparer([prise])
    _appliquer(travail)


def delai_de_reprise(tentatives: int) -> datetime.timedelta:
    """Back-off before a batch takes a failed row again: 2, 4, 8 … seconds, at most 300."""
    return datetime.timedelta(seconds=min(300, 2 ** max(1, tentatives)))


def traiter_lot(limite: int | None = None) -> int:
    """Take up to `limite` waiting rows and process them: provider calls concurrent, one
    transaction per row. Returns how many rows were processed."""
    prises = reserver_lot(settings.PECULE_NOTIFICATIONS_PAR_LOT if limite is None else limite)
    traitees = 0
    fin = time.monotonic() + DUREE_MAX_LOT.total_seconds()
    for travail in _preparer(prises):
        if time.monotonic() > fin:  # the rest waits for its reservation to end
            logger.warning("Inbox batch stopped after %s: rows left to the next", DUREE_MAX_LOT)
            break
        try:
            _appliquer(travail)
        except Exception as exc:
            if not isinstance(exc, ErreurFournisseur):
                logger.exception("Notification %s: processing failed", travail.prise.pk)
            noter_erreur(
                travail.prise, exc, reessayer_dans=delai_de_reprise(travail.prise.tentatives)
            )
            continue
        traitees += 1
    return traitees
