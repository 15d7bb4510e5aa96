"""End-to-end tests (docs/tests-bout-en-bout.md): the real processes together.

- `live_server`: pytest-django's live server on 127.0.0.1 (the host the FranceConnect
  stand-in accepts in its redirect URIs, and the one the sandbox bank notifies);
- `banque_sandbox`: one real sandbox bank process (`python -m sandbox`, SANDBOX_PORT=0, its
  own SQLite file, short delays) for the session; `banque` gives each test a reset sandbox
  that notifies the live portal, and points the portal's "sandbox" provider at it;
- `franceconnect` (tests/conftest.py): the real FranceConnect stand-in (node);
- Celery runs eagerly (no CELERY_BROKER_URL): a notification received by the live server is
  processed in its request thread, after the commit;
- `situation`: an establishment capping transfers at 200 € (400 € a month), a convicted
  detainee with their account, a visit permit issued to the stand-in's `test` identity
  (Angela Claire Louise DUBOIS, born 24/08/1962) and not yet registered, and a régisseur.

Every wait is bounded (Playwright's expect timeouts, `attendre` with a deadline); the
processes are stopped at the end of the session.
"""

import datetime

import pytest

from tests.bout_en_bout.outils import (
    ANGELA,
    CHEMIN_NOTIFICATIONS,
    CODE_ETABLISSEMENT,
    ENV_RAPIDE,
    ETABLISSEMENT,
    IBAN_REGIE,
    PLAFOND_MENSUEL,
    PLAFOND_PAR_VIREMENT,
    Journal,
    Proche,
    proche_avec_permis,
)
from tests.chromium import lancer_chromium
from tests.sandbox_banque import BanqueSandbox

# --- Processes ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def banque_sandbox(tmp_path_factory):
    """The real sandbox bank process, once for the session."""
    banque = BanqueSandbox(tmp_path_factory.mktemp("sandbox-e2e") / "sandbox.sqlite3", **ENV_RAPIDE)
    banque.demarrer()
    yield banque
    banque.arreter()


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
    # Forget the payments and the notifications still queued (nothing reaches the next test).
    banque_sandbox.reinitialiser()
    fournisseurs.reinitialiser()


# --- Data ---------------------------------------------------------------------------------


@pytest.fixture
def situation(transactional_db, settings):
    """The establishment (caps 200 € / 400 €), the detainee, Angela's permit (not yet
    registered on the portal) and a régisseur of the establishment."""
    from django.utils import timezone

    from permis.services import creer_permis
    from regie.models import StatutPenal
    from tests.factories import DetenuFactory, EtablissementFactory, agent

    etablissement = EtablissementFactory(
        code=CODE_ETABLISSEMENT,
        nom=ETABLISSEMENT,
        regie_titulaire="Régie des comptes nominatifs du CP de Bout-en-Bout",
        regie_iban=IBAN_REGIE,
        plafond_par_virement=PLAFOND_PAR_VIREMENT,
        plafond_mensuel_par_detenu=PLAFOND_MENSUEL,
    )
    detenu = DetenuFactory(
        etablissement=etablissement,
        numero_ecrou="204518",
        nom="DURAND",
        prenoms="Paul",
        date_naissance=datetime.date(1988, 6, 3),
        statut_penal=StatutPenal.CONDAMNE,
    )
    aujourdhui = timezone.localdate()
    permis = creer_permis(
        etablissement=etablissement,
        numero="PV-2026-0042",
        detenu=detenu,
        titulaire_nom=ANGELA["nom"],
        titulaire_prenoms=ANGELA["prenoms"],
        titulaire_date_naissance=ANGELA["naissance"],
        date_debut=aujourdhui - datetime.timedelta(days=30),
        date_fin=aujourdhui + datetime.timedelta(days=335),
    )
    # A fast hasher for the régisseur's password (the live server shares the settings).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    regisseur = agent("Régisseur", etablissement, username="regisseur.e2e")
    return {
        "etablissement": etablissement,
        "detenu": detenu,
        "compte": detenu.compte,
        "permis": permis,
        "regisseur": regisseur,
    }


@pytest.fixture
def proche(client, live_server, banque, situation):
    """Angela, her permit registered, on the portal through Django's test client (for
    the outcomes played over plain HTTP)."""
    angela, enregistrement = proche_avec_permis(situation)
    client.force_login(angela)
    return Proche(client, live_server, enregistrement)


# --- The browser --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def navigateur():
    """One headless chromium for the module (module scope: see `lancer_chromium`)."""
    Journal.FICHIER_TOLERES.unlink(missing_ok=True)
    with lancer_chromium(delai_expect_ms=5_000) as chromium:
        yield chromium


@pytest.fixture
def portail(live_server, franceconnect, banque):
    """The live portal pointed at the FranceConnect stand-in and the sandbox bank.

    Chrome applies the Content-Security-Policy's form-action to the redirects that follow
    a form (the FranceConnect button goes on to the stand-in, « Réaliser le virement » to
    the bank's selection page): `franceconnect` and `banque` (through `configurer` and
    `configurer_portail`) add their random-port origins to the policy. The policy as
    shipped is checked by `test_la_csp_laisse_le_formulaire_aller_a_la_banque`."""
    return live_server


@pytest.fixture
def contexte(navigateur, portail):
    contexte = navigateur.new_context(
        base_url=portail.url,
        locale="fr-FR",
        timezone_id="Europe/Paris",
        viewport={"width": 1280, "height": 900},
    )
    contexte.set_default_timeout(15_000)
    yield contexte
    contexte.close()


@pytest.fixture
def page(contexte, portail):
    """A tab; the portal's JavaScript errors and CSP violations fail the test."""
    page = contexte.new_page()
    journal = Journal(page, origine=portail.url)
    yield page
    journal.verifier()
