"""Test set-up shared by every test.

The suite runs on PostgreSQL (DATABASE_URL, set by `make test`). Tests marked
`postgres` need its locks, triggers and constraints: on another database they fail,
they are never skipped.
"""

import pytest
from django.db import connection


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "transactional_db" in getattr(item, "fixturenames", ()) or item.get_closest_marker(
            "postgres"
        ):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(autouse=True)
def _postgres_requis(request):
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.fail(
            "This test needs PostgreSQL: run it with DATABASE_URL=postgres://... (make test)."
        )


@pytest.fixture(autouse=True)
def _cache_vide():
    """Each test starts with an empty cache: the rate limits of anonymous writes
    (socle.limites) count per address in it, and every test client is 127.0.0.1."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _medias_temporaires(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(scope="session")
def fournisseur_oidc():
    """The real local FranceConnect stand-in, started once for the session."""
    from tests.oidc_stand_in import FournisseurOidc

    fournisseur = FournisseurOidc()
    yield fournisseur
    fournisseur.arreter()


@pytest.fixture
def franceconnect(fournisseur_oidc, settings):
    """The portal pointed at the stand-in; the stand-in's test hook cleared after the test."""
    fournisseur_oidc.configurer(settings)
    yield fournisseur_oidc
    fournisseur_oidc.desarmer()


@pytest.fixture(scope="session")
def live_server():
    """pytest-django's live server (static files served, the test's settings applied) on
    127.0.0.1 and a free port, whatever --liveserver says: the FranceConnect stand-in
    only sends the browser back to http://127.0.0.1:* or http://localhost:*, and the
    browser must use the host the portal builds its redirect URIs from."""
    from pytest_django.live_server_helper import LiveServer

    serveur = LiveServer("127.0.0.1")
    yield serveur
    serveur.stop()
