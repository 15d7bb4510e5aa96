"""Reliability tests of the payments (docs/fiabilite.md): real PostgreSQL, real Redis, real
Celery worker processes, the real sandbox bank process, the portal's endpoint on a live server.

- `live_server`: pytest-django's live server on 127.0.0.1 (the sandbox notifies it; its
  request threads run the real endpoint, which publishes to Redis after the commit);
- `banque_sandbox` / `banque`: one sandbox bank process for the session, reset for each test,
  notifying the live server; the portal's "sandbox" provider points at it;
- `file_celery`: a queue of its own for this test session (on the Redis index
  PECULE_TEST_REDIS_URL, default redis://127.0.0.1:6379/7): another test run on the same
  Redis never takes these tasks, and this one never takes theirs. Only this queue's keys
  (and its unacknowledged messages) are deleted, never the whole index;
- `celery_redis`: this process's Celery app publishes to that Redis and queue (not eagerly)
  for the test, then goes back to the settings;
- `worker`: one real `celery worker` process (tests/celery_worker.py) for the session, on
  that queue, against the test database (transactional tests commit, so the worker sees
  the data) and the sandbox;
- `file_isolee` + `lancer_worker`: for the tests that kill workers, a queue of the test's
  own (this process publishes to it) and workers started on it by the test; every worker
  started is stopped at the end of the test;
- `situation`: an establishment with caps (300 € per transfer, 500 € a month), a convicted
  detainee, a relative with a registered permit.

Every wait has a deadline (`attendre`), every process is stopped in teardown.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from decimal import Decimal

import pytest
import redis

from tests.celery_worker import REDIS_TESTS, WorkerCelery, broker, url_base_de_donnees
from tests.sandbox_banque import BanqueSandbox

ENV_RAPIDE = {
    "SANDBOX_RETRY_BASE": "0.05",
    "SANDBOX_RETRY_MAX": "0.5",
    "SANDBOX_ATTENTE_SECONDES": "0.5",
    "SANDBOX_TICK": "0.05",
    "SANDBOX_NOTIFICATION_TIMEOUT": "10",
}
CHEMIN_NOTIFICATIONS = "/paiements/notifications/sandbox/"


# --- Processes and Redis ------------------------------------------------------------------


@pytest.fixture(scope="session")
def banque_sandbox(tmp_path_factory):
    banque = BanqueSandbox(
        tmp_path_factory.mktemp("sandbox-fiab") / "sandbox.sqlite3", **ENV_RAPIDE
    )
    banque.demarrer()
    yield banque
    banque.arreter()


@pytest.fixture(scope="session")
def file_celery():
    """This session's own queue name."""
    return f"fiabilite-{os.getpid()}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def redis_tests(file_celery):
    client = redis.Redis.from_url(REDIS_TESTS, socket_timeout=5, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is needed at {REDIS_TESTS} for these tests: {exc}", pytrace=False)
    yield client
    oublier_la_file(client, file_celery)
    client.close()


def oublier_la_file(client: redis.Redis, file: str) -> None:
    """Delete this queue's keys and its unacknowledged messages (nobody else's)."""
    for cle in client.scan_iter(match=f"*{file}*", count=1000):
        client.delete(cle)
    for etiquette, valeur in client.hgetall("unacked").items():
        with contextlib.suppress(ValueError, TypeError, IndexError):
            _message, echange, cle_routage = json.loads(valeur)
            if file in (echange, cle_routage):
                client.hdel("unacked", etiquette)
                client.zrem("unacked_index", etiquette)


def messages_en_cours(client: redis.Redis, file: str) -> int:
    """Messages of this queue delivered but not acknowledged (running, reserved, or lost
    with a killed worker)."""
    nombre = 0
    for valeur in client.hvals("unacked"):
        with contextlib.suppress(ValueError, TypeError, IndexError):
            _message, echange, cle_routage = json.loads(valeur)
            nombre += file in (echange, cle_routage)
    return nombre


@contextlib.contextmanager
def _publier_sur(client: redis.Redis, file: str, attendre_le_worker: bool):
    client.delete(file)
    with broker(REDIS_TESTS, file=file):
        yield client
    fin = time.monotonic() + 5
    while (
        attendre_le_worker
        and time.monotonic() < fin
        and (client.llen(file) or messages_en_cours(client, file))
    ):
        time.sleep(0.05)
    oublier_la_file(client, file)


@pytest.fixture
def celery_redis(redis_tests, file_celery):
    """This process publishes to the test Redis and the session's queue (the one `worker`
    consumes); the queue is emptied after the test (after a short, bounded wait for the
    worker to finish what is under way)."""
    with _publier_sur(redis_tests, file_celery, attendre_le_worker=True):
        yield redis_tests


@pytest.fixture
def file_isolee(redis_tests, file_celery):
    """A queue of this test only (the session's `worker` never sees it): for the tests that
    kill their own workers. This process publishes to it during the test."""
    file = f"{file_celery}-{uuid.uuid4().hex[:6]}"
    with _publier_sur(redis_tests, file, attendre_le_worker=False):
        yield file


@pytest.fixture(scope="session")
def base_de_test(django_db_setup):
    """The DATABASE_URL of the test database (what the worker processes use)."""
    from django.db import connection

    return url_base_de_donnees(connection.settings_dict)


def _nouveau_worker(base_de_test, banque_sandbox, file, **options) -> WorkerCelery:
    return WorkerCelery(
        database_url=base_de_test,
        file=file,
        env={
            "PECULE_FOURNISSEUR": "sandbox",
            "SANDBOX_BANQUE_URL": banque_sandbox.url,
            "SANDBOX_BANQUE_SECRET": banque_sandbox.secret,
        },
        **options,
    )


@pytest.fixture
def lancer_worker(base_de_test, banque_sandbox, file_isolee):
    """`lancer_worker(visibilite=None)` starts a worker on this test's own queue and
    returns it (ready); all are stopped at the end of the test."""
    lances: list[WorkerCelery] = []

    def lancer(**options) -> WorkerCelery:
        worker = _nouveau_worker(base_de_test, banque_sandbox, file_isolee, **options)
        lances.append(worker)
        return worker.demarrer()

    yield lancer
    for worker in lances:
        worker.arreter(delai=20)
        worker.supprimer_journal()


@pytest.fixture(scope="session")
def worker(base_de_test, banque_sandbox, file_celery, redis_tests):
    """One worker for the session, on the session's queue (`celery_redis`)."""
    worker = _nouveau_worker(base_de_test, banque_sandbox, file_celery).demarrer()
    yield worker
    worker.arreter(delai=20)
    worker.supprimer_journal()


@pytest.fixture
def banque(banque_sandbox, live_server, settings):
    """The sandbox, reset, notifying the live portal; the portal's default provider is the
    sandbox and points at it."""
    from pecule import fournisseurs

    banque_sandbox.reinitialiser()
    banque_sandbox.configurer(notification_url=f"{live_server.url}{CHEMIN_NOTIFICATIONS}")
    settings.PECULE_FOURNISSEUR_DEFAUT = "sandbox"
    banque_sandbox.configurer_portail(settings)
    yield banque_sandbox
    banque_sandbox.reinitialiser()
    fournisseurs.reinitialiser()


# --- Data ---------------------------------------------------------------------------------


@pytest.fixture
def situation(transactional_db):
    from regie.models import StatutPenal
    from tests.factories import DetenuFactory, EtablissementFactory
    from tests.pecule.conftest import creer_proche, permis_pour

    etablissement = EtablissementFactory(
        plafond_par_virement=Decimal("300.00"), plafond_mensuel_par_detenu=Decimal("500.00")
    )
    detenu = DetenuFactory(etablissement=etablissement, statut_penal=StatutPenal.CONDAMNE)
    proche = creer_proche()
    permis = permis_pour(proche, detenu)
    return {
        "etablissement": etablissement,
        "detenu": detenu,
        "compte": detenu.compte,
        "proche": proche,
        "permis": permis,
    }
