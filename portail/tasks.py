"""Site-wide periodic tasks."""

from celery import shared_task
from django.contrib.sessions.models import Session
from django.utils import timezone


@shared_task
def supprimer_sessions_expirees() -> int:
    """Delete the expired sessions (what `manage.py clearsessions` does): every visitor
    who starts a FranceConnect login gets a session row, so they must not pile up."""
    supprimees, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return supprimees
