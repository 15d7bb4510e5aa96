"""The Celery application, configured from Django settings (namespace CELERY)."""

import logging.config
import os

from celery import Celery
from celery.signals import setup_logging
from django_structlog.celery.steps import DjangoStructLogInitStep

from portail.observabilite import format_journaux

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portail.settings")

app = Celery("portail")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
if format_journaux() == "json":
    # Workers and beat log like the web: JSON lines (settings.LOGGING) instead of Celery's
    # own format, and the request id of the web request that queued a task is bound
    # again in the worker (django-structlog), so the task's lines carry it. In text mode
    # (development, tests) Celery keeps its own format.
    app.steps["worker"].add(DjangoStructLogInitStep)

    @setup_logging.connect
    def _journaux_du_portail(**_kwargs):
        from django.conf import settings

        logging.config.dictConfig(settings.LOGGING)
