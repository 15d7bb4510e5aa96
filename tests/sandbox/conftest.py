"""The real sandbox bank process, started once for this package (SANDBOX_PORT=0, its own
SQLite file), with short delays so that retries, pending outcomes and expiry take well
under a second."""

import pytest

from tests.sandbox_banque import BanqueSandbox, RecepteurNotifications

ENV_RAPIDE = {
    "SANDBOX_RETRY_BASE": "0.05",
    "SANDBOX_RETRY_MAX": "0.5",
    "SANDBOX_ATTENTE_SECONDES": "0.5",
    "SANDBOX_TICK": "0.05",
    "SANDBOX_NOTIFICATION_TIMEOUT": "3",
}


@pytest.fixture(scope="session")
def banque_sandbox(tmp_path_factory):
    banque = BanqueSandbox(tmp_path_factory.mktemp("sandbox") / "sandbox.sqlite3", **ENV_RAPIDE)
    banque.demarrer()
    yield banque
    banque.arreter()


@pytest.fixture
def recepteur():
    """A local receiver for the notifications (answers 200 unless told otherwise)."""
    serveur = RecepteurNotifications()
    yield serveur
    serveur.fermer()


@pytest.fixture
def banque(banque_sandbox, recepteur):
    """The sandbox, reset, sending its notifications to `recepteur`."""
    banque_sandbox.reinitialiser()
    banque_sandbox.configurer(notification_url=recepteur.url)
    yield banque_sandbox
    banque_sandbox.reinitialiser()


@pytest.fixture
def fournisseur(banque):
    return banque.fournisseur()
