"""Queueing Celery tasks without depending on the broker being up.

`publier` queues a task, given as the task object or by its registered name (so that a
module may queue a task without importing the module that defines it). When the broker
is unreachable it logs and returns False: the work is kept in the database and the
periodic sweeps queue it again.
"""

import logging

from celery import current_app
from celery.app.task import Task
from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def tache(nom: str) -> Task:
    """The task registered under `nom`, importing the task modules if need be."""
    application = current_app
    if nom not in application.tasks:
        application.loader.import_default_modules()
    return application.tasks[nom]


def publier(tache_ou_nom: Task | str, *args) -> bool:
    """Queue the task with `args`; False (logged) if the broker is down."""
    a_publier = tache(tache_ou_nom) if isinstance(tache_ou_nom, str) else tache_ou_nom
    try:
        a_publier.apply_async(args=args, retry=False)
    except OperationalError:
        logger.warning("Broker unreachable: %s%s left to the periodic sweep", a_publier.name, args)
        return False
    return True


def publier_apres_commit(tache_ou_nom: Task | str, *args) -> None:
    """Queue the task once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: publier(tache_ou_nom, *args), robust=True)
