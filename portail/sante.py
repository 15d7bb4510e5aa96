"""`/sante/`: the portal's health as the compose health checks and the monitoring read
it (django-health-check): the database, Redis (the broker and the shared cache), the
Celery workers, and the media disk where the workers write the PDF statements that the
web serves. 200 when all is well, 500 otherwise; `?format=json` or `Accept:
application/json` for JSON."""

import contextlib
import dataclasses
import datetime
import shutil
import uuid
from pathlib import Path

from django.conf import settings
from health_check.base import HealthCheck
from health_check.checks import Cache, Database
from health_check.contrib.celery import Ping
from health_check.contrib.redis import Redis
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView
from redis.asyncio import Redis as ClientRedis


@dataclasses.dataclass
class DisqueMedias(HealthCheck):
    """MEDIA_ROOT exists, a file can be written, read and deleted there, and the disk
    keeps some room (the PDF statements are written by the worker, read by the web)."""

    espace_libre_min_mo: int = dataclasses.field(default=100, repr=False)

    def run(self):
        racine = Path(settings.MEDIA_ROOT)
        sonde = racine / f".sante-{uuid.uuid4().hex}"
        try:
            racine.mkdir(parents=True, exist_ok=True)
            sonde.write_bytes(b"ok")
            if sonde.read_bytes() != b"ok":
                raise ServiceUnavailable("Media: read back differs")
        except OSError as exc:
            raise ServiceUnavailable(f"Media not writable ({exc.__class__.__name__})") from exc
        finally:
            with contextlib.suppress(OSError):
                sonde.unlink(missing_ok=True)
        libre_mo = shutil.disk_usage(racine).free // (1024 * 1024)
        if libre_mo < self.espace_libre_min_mo:
            raise ServiceUnavailable(f"Media disk nearly full ({libre_mo} MB free)")


def verifications() -> list:
    """What /sante/ checks. Without a broker (local run, tasks in process) there is no
    Redis nor worker to ask."""
    liste = [Database(), DisqueMedias()]
    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        liste.append(Cache())
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        url = settings.CELERY_BROKER_URL
        liste.append(Redis(client_factory=lambda: ClientRedis.from_url(url, socket_timeout=2)))
        liste.append(Ping(timeout=datetime.timedelta(seconds=2), limit=1))
    return liste


class Sante(HealthCheckView):
    def get_checks(self):
        yield from verifications()
