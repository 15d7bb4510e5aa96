"""Telling the staff of an establishment: who holds a right there, and an email to them
once the transaction that calls for it has committed (never for a rollback; an email
failure is logged and never undoes the change)."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q

from ..models import Etablissement

logger = logging.getLogger(__name__)


def personnel_ayant_le_droit(etablissement: Etablissement, permission: str):
    """The active staff attached to `etablissement` who hold `permission`
    ("app_label.codename"), by a group or directly."""
    app_label, codename = permission.split(".", 1)
    droit = Q(
        groups__permissions__codename=codename,
        groups__permissions__content_type__app_label=app_label,
    ) | Q(
        user_permissions__codename=codename,
        user_permissions__content_type__app_label=app_label,
    )
    return (
        get_user_model()
        .objects.filter(
            droit, is_active=True, is_staff=True, affectations__etablissement=etablissement
        )
        .distinct()
    )


def prevenir(etablissement: Etablissement, permission: str, sujet: str, texte: str) -> None:
    destinataires = sorted(
        set(
            personnel_ayant_le_droit(etablissement, permission)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )
    if not destinataires:
        return

    def envoyer():
        try:
            send_mail(sujet, texte, None, destinataires)
        except Exception:
            logger.exception("Staff email « %s » not sent", sujet)

    transaction.on_commit(envoyer)
