"""Celery tasks of the relatives' statements: thin wrappers around the services, each
safe to run twice (acks_late: a task may be delivered again).

Listed in CELERY_IMPORTS so that the worker registers them."""

import datetime

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def produire_releve(releve_id: int) -> str | None:
    """Render and store one requested statement (nothing if already done)."""
    releve = services.produire(releve_id)
    return releve.statut if releve is not None else None


@shared_task
def relancer_releves(age_secondes: int = 300) -> int:
    """Queue again the requests still waiting (broker down, worker lost)."""
    return services.relancer_releves_en_attente(age=datetime.timedelta(seconds=age_secondes))


@shared_task
def supprimer_releves_expires() -> int:
    """Delete the statements past their retention period (files, then rows)."""
    return services.supprimer_releves_expires()
