"""Notifications refused at the door: recorded aggregated, and forgotten after a while.

Anyone can POST to the notification endpoint, so what it records of a refusal must stay
bounded: one row per provider, reason, client address and hour, with a counter
(`enregistrer_rejet`), deleted once its last refusal is older than the retention
(`supprimer_rejets_anciens`, a periodic task). The endpoint also stops recording an
address that is refused too often (`socle.limites`).
"""

from __future__ import annotations

import datetime
import ipaddress

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from ..models import NotificationRejetee

RETENTION_REJETS_JOURS_PAR_DEFAUT = 30
TAILLE_EXTRAIT = 500


def retention_rejets() -> datetime.timedelta:
    jours = getattr(settings, "PECULE_RETENTION_REJETS_JOURS", RETENTION_REJETS_JOURS_PAR_DEFAUT)
    return datetime.timedelta(days=int(jours))


def extrait(corps: bytes) -> str:
    """The start of a body as storable text (invalid UTF-8 replaced, no NUL character,
    which PostgreSQL's text refuses)."""
    return corps[:TAILLE_EXTRAIT].decode("utf-8", "replace").replace("\x00", "\ufffd")


def _adresse(texte: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((texte or "").strip()))
    except ValueError:
        return None


def enregistrer_rejet(
    *, fournisseur: str, motif: str, adresse_ip: str | None, corps: bytes
) -> NotificationRejetee:
    """Count one refused notification in the row of its provider, reason, address and
    hour (created with the body's start the first time)."""
    maintenant = timezone.now()
    cle = {
        "fournisseur": fournisseur[:30],
        "motif": motif[:100],
        "adresse_ip": _adresse(adresse_ip),
        "periode": maintenant.replace(minute=0, second=0, microsecond=0),
    }
    for _essai in range(3):
        rejets = NotificationRejetee.objects.filter(**cle)
        if rejets.update(nombre=F("nombre") + 1, derniere_le=maintenant):
            return rejets.get()
        try:
            with transaction.atomic():
                return NotificationRejetee.objects.create(
                    **cle, recue_le=maintenant, derniere_le=maintenant, extrait=extrait(corps)
                )
        except IntegrityError:
            continue  # created meanwhile by a concurrent refusal: count in it
    raise RuntimeError("rejected notification not recorded")  # pragma: no cover


def supprimer_rejets_anciens(*, maintenant: datetime.datetime | None = None) -> int:
    """Delete the rows whose last refusal is older than the retention; returns how many."""
    limite = (maintenant or timezone.now()) - retention_rejets()
    supprimes, _ = NotificationRejetee.objects.filter(derniere_le__lt=limite).delete()
    return supprimes
