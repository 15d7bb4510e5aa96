"""Browser tests: Playwright drives Debian's chromium against pytest-django's live server,
logged in through the real local FranceConnect stand-in (docs/tests-navigateur.md).

- `live_server` is pytest-django's, bound to 127.0.0.1: the host of the redirect URIs the
  stand-in accepts, so that the portal's cookies come back after FranceConnect.
- `navigateur` is one chromium for the whole package. A missing browser is an error,
  never a skip.
- `contexte` / `page` are new for each test (no cookie carried over), on a desktop screen
  or, with `@pytest.mark.parametrize("profil", ...)`, on a 360 px phone screen.
"""

import datetime
import os

import pytest

from tests.navigateur.outils import BUREAU, CHROMIUM, PROFILS, Journal

ARGUMENTS_CHROMIUM = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def live_server():
    """pytest-django's live server (static files served, settings of the test applied), on
    127.0.0.1 and a free port whatever --liveserver says: the stand-in only sends the
    browser back to http://127.0.0.1:* or http://localhost:*, and the browser must use the
    host the portal builds its redirect URIs from."""
    from pytest_django.live_server_helper import LiveServer

    serveur = LiveServer("127.0.0.1")
    yield serveur
    serveur.stop()


@pytest.fixture(scope="package")
def navigateur():
    """One headless chromium for the package (Debian's, never a downloaded one).

    Package scope, not session: while Playwright's sync API runs, an asyncio loop is
    marked as running in the main thread, which makes Django refuse ORM calls
    (SynchronousOnlyOperation). The tests of this package allow them (the ORM still runs
    in this thread only); the loop, and the permission, end with the package, so the
    other tests of the run are untouched."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}. The browser tests need Debian's chromium "
            "(apt-get install chromium) or PECULE_CHROMIUM=/path/to/chromium; they are "
            "never skipped.",
            pytrace=False,
        )
    from playwright.sync_api import expect, sync_playwright

    # Room for a slow CI machine; each expect() still returns as soon as it holds.
    expect.set_options(timeout=10_000)

    avant = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=ARGUMENTS_CHROMIUM
            )
            yield chromium
            chromium.close()
    finally:
        if avant is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = avant


@pytest.fixture
def portail(live_server, franceconnect):
    """The live portal pointed at the stand-in (whose `configurer` also lets the portal's
    forms go on to its random port under the Content-Security-Policy)."""
    return live_server


@pytest.fixture
def profil():
    """The screen of the test: desktop unless the test is parametrized with `profil`."""
    return BUREAU


@pytest.fixture
def contexte(navigateur, portail, profil):
    contexte = navigateur.new_context(
        base_url=portail.url,
        locale="fr-FR",
        timezone_id="Europe/Paris",
        **PROFILS[profil],
    )
    contexte.set_default_timeout(15_000)
    yield contexte
    contexte.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    rapport = yield
    if rapport.when == "call":
        item.echec_du_test = rapport.failed
    return rapport


@pytest.fixture
def page(request, contexte, portail):
    """A tab of the portal. The portal's own JavaScript errors, failed loads and
    Content-Security-Policy violations make the test fail (checked at the end of a test
    that passed; a failed test already shows what went wrong)."""
    page = contexte.new_page()
    journal = Journal(page, origine=portail.url)
    page.journal = journal
    yield page
    if not getattr(request.node, "echec_du_test", False):
        journal.verifier()


# --- Data: an establishment, a detainee, a permit issued to the stand-in's `test` identity


@pytest.fixture
def etablissement():
    from tests.factories import EtablissementFactory

    return EtablissementFactory(code="MA-SANTE", nom="Maison d'arrêt de Paris-la-Santé")


@pytest.fixture
def detenu(etablissement):
    from tests.factories import DetenuFactory

    return DetenuFactory(
        etablissement=etablissement,
        numero_ecrou="204518",
        nom="DURAND",
        prenoms="Paul",
        date_naissance=datetime.date(1988, 6, 3),
    )


def creer_permis_de_visite(detenu, numero, nom, prenoms, naissance):
    from django.utils import timezone

    from permis.services import creer_permis

    aujourdhui = timezone.localdate()
    return creer_permis(
        etablissement=detenu.etablissement,
        numero=numero,
        detenu=detenu,
        titulaire_nom=nom,
        titulaire_prenoms=prenoms,
        titulaire_date_naissance=naissance,
        date_debut=aujourdhui - datetime.timedelta(days=30),
        date_fin=aujourdhui + datetime.timedelta(days=335),
    )


@pytest.fixture
def permis_angela(detenu):
    """The permit issued to Angela Claire Louise DUBOIS (stand-in login `test`)."""
    return creer_permis_de_visite(
        detenu, "PV-2026-0042", "DUBOIS", "Angela Claire Louise", datetime.date(1962, 8, 24)
    )


@pytest.fixture
def permis_d_un_autre(detenu):
    """A permit of the same detainee issued to Jean-Pierre MARTIN, not to Angela."""
    return creer_permis_de_visite(
        detenu, "PV-2026-0077", "MARTIN", "Jean-Pierre", datetime.date(1975, 3, 14)
    )
