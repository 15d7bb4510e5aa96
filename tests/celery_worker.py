"""A REAL Celery worker process for the tests (and the benchmark), and the switch that
points this process's Celery app at the same Redis.

Two uses of this one module:

- in the test process, `WorkerCelery` starts `python -m celery -A tests.celery_worker worker
  --pool prefork --concurrency 2 --without-gossip --without-mingle --without-heartbeat
  -Q <queue>` against a database and a Redis index, waits for its "ready." line, and stops
  it (SIGTERM, then SIGKILL of its process group after a deadline), or kills it on purpose
  (`tuer()`: SIGKILL of the whole group; `tuer_processus_du_pool()`: SIGKILL of the pool
  processes only). `broker(url, file)` / `brancher_broker(url, file=…)` make this process
  publish to that Redis and queue, not eagerly (the Celery app reads the Django settings
  once, lazily: its cached pools, queues and router are dropped);
- in the worker process, the module is the Celery app (`-A tests.celery_worker`): the
  portal's app (`portail.celery.app`, same settings) with the test's queue as default queue
  (PECULE_TEST_QUEUE: the tasks the worker queues itself stay on it), no remote control,
  when asked a short Redis `visibility_timeout` (PECULE_TEST_VISIBILITY_TIMEOUT, seconds)
  with a sweep of the unacknowledged messages every second, and a watchdog that ends the
  worker if the test process dies (PECULE_TEST_PARENT_PID), so that no worker outlives its
  test run.

Every wait has a deadline; the worker's output goes to a temporary file, for failure
messages (`journal()`), deleted at the end unless PECULE_TEST_GARDER_JOURNAUX=1.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from portail.celery import app

RACINE = Path(__file__).resolve().parent.parent
REDIS_TESTS = os.environ.get("PECULE_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
LIGNE_PRETE = " ready."


# --- In the worker process ----------------------------------------------------------------


def _reglages_du_worker() -> None:
    # No remote control: no broadcast queue per worker name left behind in Redis.
    app.conf.worker_enable_remote_control = False
    file = os.environ.get("PECULE_TEST_QUEUE")
    if file:
        # The tasks the worker queues itself (re-queue sweep, poller, outbox) go to the
        # test's own queue, never to the shared "celery" queue.
        app.conf.task_default_queue = file
    visibilite = os.environ.get("PECULE_TEST_VISIBILITY_TIMEOUT")
    if visibilite:
        app.conf.broker_transport_options = {
            **(app.conf.broker_transport_options or {}),
            "visibility_timeout": float(visibilite),
            # Sweep the unacknowledged messages every second (kombu's default: about 100 s).
            "unacked_restore_interval": 1,
            "unacked_restore_throttle": 1,
        }
    parent = os.environ.get("PECULE_TEST_PARENT_PID")
    if parent:
        _surveiller_parent(int(parent))


def _surveiller_parent(pid_parent: int) -> None:
    """If the test process disappears (crash, kill -9 of pytest), end this worker group."""
    pid_worker = os.getpid()

    def surveiller():
        while True:
            time.sleep(1)
            if os.getpid() != pid_worker:  # pragma: no cover - never in a forked child
                return
            try:
                os.kill(pid_parent, 0)
            except ProcessLookupError:
                os.killpg(os.getpgrp(), signal.SIGKILL)
            except PermissionError:  # pragma: no cover
                pass

    threading.Thread(target=surveiller, name="surveillance-parent", daemon=True).start()


if os.environ.get("PECULE_TEST_WORKER") == "1":
    _reglages_du_worker()


# --- In the test process ------------------------------------------------------------------


def brancher_broker(url: str, *, file: str | None = None, eager: bool = False) -> None:
    """Make this process's Celery app publish to `url`, on queue `file` (None: leave the
    default queue as it is), and not run tasks in process (`eager=False`).

    The app caches its connection pool, its producer pool, its queues and its router (all
    made from the configuration on first use): they are dropped, to be made again."""
    app.conf.broker_url = url
    app.conf.task_always_eager = eager
    if file is not None:
        app.conf.task_default_queue = file
    # Not closed: kombu keeps one pool per broker URL (module-level), reused when the URL
    # comes back.
    app._pool = None
    app.__dict__.pop("amqp", None)


@contextlib.contextmanager
def broker(url: str = REDIS_TESTS, file: str | None = None):
    """`brancher_broker(url, file=file)` for the duration of the block, then back to what
    the settings said."""
    avant = (app.conf.broker_url, app.conf.task_default_queue, app.conf.task_always_eager)
    brancher_broker(url, file=file)
    try:
        yield
    finally:
        brancher_broker(avant[0], file=avant[1], eager=avant[2])


def url_base_de_donnees(reglages: dict) -> str:
    """A DATABASE_URL for a Django connection's settings_dict (e.g. the test database)."""
    from urllib.parse import quote

    utilisateur = quote(reglages.get("USER") or "", safe="")
    mot_de_passe = reglages.get("PASSWORD") or ""
    identite = f"{utilisateur}:{quote(mot_de_passe, safe='')}" if mot_de_passe else utilisateur
    hote = reglages.get("HOST") or "127.0.0.1"
    port = reglages.get("PORT") or "5432"
    return f"postgres://{identite}@{hote}:{port}/{reglages['NAME']}"


class WorkerCelery:
    """One `celery worker` process group (prefork), started and stopped by the test."""

    def __init__(
        self,
        *,
        database_url: str,
        broker_url: str = REDIS_TESTS,
        file: str = "celery",
        concurrence: int = 2,
        visibilite: float | None = None,
        env: dict | None = None,
        nom: str = "fiabilite",
        niveau_journal: str = "INFO",
    ):
        self.concurrence = concurrence
        self.file = file
        self.niveau_journal = niveau_journal
        self.nom = f"{nom}-{uuid.uuid4().hex[:8]}@%h"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portail.settings",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "DJANGO_DEBUG": "0",
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "PYTHONUNBUFFERED": "1",
            "PECULE_TEST_WORKER": "1",
            "PECULE_TEST_QUEUE": file,
            "PECULE_TEST_PARENT_PID": str(os.getpid()),
            **{cle: str(valeur) for cle, valeur in (env or {}).items()},
        }
        if visibilite is not None:
            self.env["PECULE_TEST_VISIBILITY_TIMEOUT"] = str(visibilite)
        self.processus: subprocess.Popen | None = None
        self._chemin_journal: Path | None = None
        self._journal = None

    # --- Process ---------------------------------------------------------------------------

    def demarrer(self, delai: float = 60.0) -> WorkerCelery:
        descripteur, chemin = tempfile.mkstemp(prefix="celery-worker-", suffix=".log")
        os.close(descripteur)
        self._chemin_journal = Path(chemin)
        self._journal = self._chemin_journal.open("wb")
        self.processus = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tests.celery_worker",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                str(self.concurrence),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-Q",
                self.file,
                "-n",
                self.nom,
                "-l",
                self.niveau_journal,
            ],
            cwd=RACINE,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._journal,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed as a whole
        )
        try:
            self.attendre_journal(LIGNE_PRETE, delai=delai)
        except BaseException:
            self.tuer()
            raise
        return self

    @property
    def pid(self) -> int:
        assert self.processus is not None
        return self.processus.pid

    def en_marche(self) -> bool:
        return self.processus is not None and self.processus.poll() is None

    def processus_du_pool(self) -> list[int]:
        """The pids of the pool processes (children of the main worker process)."""
        try:
            enfants = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in enfants.split()]

    def arreter(self, delai: float = 30.0) -> None:
        """Warm shutdown (SIGTERM: running tasks finish); SIGKILL of the group after `delai`."""
        if self.processus is None:
            return
        if self.processus.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.processus.send_signal(signal.SIGTERM)
            try:
                self.processus.wait(timeout=delai)
            except subprocess.TimeoutExpired:
                self.tuer()
        self._fin()

    def tuer(self) -> None:
        """SIGKILL of the whole worker (main process and pool processes), as a crash does."""
        if self.processus is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.processus.pid, signal.SIGKILL)
        self.processus.wait(timeout=30)
        # The pool processes are in the same group; make sure none survives.
        fin = time.monotonic() + 10
        while time.monotonic() < fin:
            try:
                os.killpg(self.processus.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        self._fin()

    def tuer_processus_du_pool(self) -> list[int]:
        """SIGKILL of the pool processes only: the main process sees them lost
        (WorkerLostError) and starts new ones."""
        pids = self.processus_du_pool()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return pids

    def _fin(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def supprimer_journal(self) -> None:
        """Delete the output file (kept when PECULE_TEST_GARDER_JOURNAUX=1, for debugging)."""
        if os.environ.get("PECULE_TEST_GARDER_JOURNAUX") == "1":
            return
        if self._chemin_journal is not None:
            self._chemin_journal.unlink(missing_ok=True)

    # --- Output ----------------------------------------------------------------------------

    def journal(self, derniers: int = 8000) -> str:
        if self._chemin_journal is None or not self._chemin_journal.exists():
            return ""
        return self._chemin_journal.read_text(errors="replace")[-derniers:]

    def compter(self, motif: str) -> int:
        if self._chemin_journal is None or not self._chemin_journal.exists():
            return 0
        return self._chemin_journal.read_text(errors="replace").count(motif)

    def lignes(self, motif: str) -> list[str]:
        """The output lines containing `motif`."""
        if self._chemin_journal is None or not self._chemin_journal.exists():
            return []
        texte = self._chemin_journal.read_text(errors="replace")
        return [ligne for ligne in texte.splitlines() if motif in ligne]

    def attendre_journal(self, motif: str, delai: float = 30.0, nombre: int = 1) -> None:
        """Wait until `motif` appears `nombre` times in the output (AssertionError after
        `delai`, or at once if the process ends)."""
        fin = time.monotonic() + delai
        while self.compter(motif) < nombre:
            if self.processus is not None and self.processus.poll() is not None:
                raise AssertionError(
                    f"The Celery worker ended (code {self.processus.returncode}):\n{self.journal()}"
                )
            if time.monotonic() > fin:
                raise AssertionError(
                    f"{motif!r} not seen {nombre} time(s) in the worker's output within "
                    f"{delai} s:\n{self.journal()}"
                )
            time.sleep(0.05)

    def __enter__(self) -> WorkerCelery:
        return self.demarrer()

    def __exit__(self, *exc) -> None:
        self.arreter()
        self.supprimer_journal()
