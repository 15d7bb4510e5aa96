"""The Celery application, configured from Django settings (namespace CELERY)."""

import logging.config
import os

from celery import Celery
from celery.signals import setup_logging
from django_structlog.celery.steps import DjangoStructLogInitStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portail.settings")

app = Celery("portail")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The request id of the web request that queued a task is bound again in the worker
# (django-structlog), so its log lines carry it.
app.steps["worker"].add(DjangoStructLogInitStep)


@setup_logging.connect
def _journaux_du_portail(loglevel=None, **_kwargs):
    """Workers and beat log like the web (settings.LOGGING: JSON lines in production)
    instead of Celery's own format. In text mode, Celery's `-l` level still applies."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    if loglevel and settings.PECULE_JOURNAUX != "json":
        logging.getLogger().setLevel(loglevel)
