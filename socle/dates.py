"""Dates as the project reads them: in its time zone (Europe/Paris), not the machine's."""

import datetime

from django.utils import timezone


def aujourdhui() -> datetime.date:
    """Today in the project's time zone."""
    return timezone.localdate()
