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

import pytest

from tests.chromium import lancer_chromium
from tests.navigateur.outils import BUREAU, PROFILS, Journal


@pytest.fixture(scope="package")
def navigateur():
    """One headless chromium for the package (package scope: see `lancer_chromium`)."""
    with lancer_chromium() as chromium:
        yield chromium


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


@pytest.fixture
def banque_immediate(settings):
    """A bank that approves at once (tests/navigateur/banque_immediate.py): « Réaliser le
    virement » goes straight back to the portal's return page, the payment executed."""
    from pecule import fournisseurs
    from tests.navigateur.banque_immediate import BanqueImmediate

    settings.PECULE_FOURNISSEURS = {
        "immediate": {"CLASSE": "tests.navigateur.banque_immediate.BanqueImmediate"}
    }
    settings.PECULE_FOURNISSEUR_DEFAUT = "immediate"
    fournisseurs.reinitialiser()
    BanqueImmediate.vider()
    yield BanqueImmediate
    fournisseurs.reinitialiser()
