"""The admin's Content-Security-Policy (issue 11, item 9), in Debian's chromium.

The admin used to be excluded from the policy: no Content-Security-Policy at all on the
back-office in production. Now every admin response has its own policy
(settings.CONTENT_SECURITY_POLICY_ADMIN), and the admin's scripts still run under it:
the calendar and clock shortcuts (DateTimeShortcuts.js), the actions bar (actions.js),
the related-object links; no violation is reported by the browser on the pages a régisseur
uses."""

import datetime

import pytest
from playwright.sync_api import expect

from tests.factories import DetenuFactory, EtablissementFactory

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

MOT_DE_PASSE = "mot-de-passe-de-test-123"


@pytest.fixture
def superutilisateur(transactional_db, settings):
    from comptes.models import Utilisateur

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return Utilisateur.objects.create_superuser(
        username="admin.csp", email="admin.csp@example.fr", password=MOT_DE_PASSE
    )


def _directives(entete: str) -> dict[str, str]:
    return dict([*d.strip().split(" ", 1), ""][:2] for d in entete.split(";") if d.strip())


def test_le_back_office_a_sa_politique_et_ses_scripts_fonctionnent(
    navigateur, live_server, superutilisateur
):
    from permis.services import creer_permis

    etablissement = EtablissementFactory(code="CP-CSP", nom="Centre pénitentiaire CSP")
    detenu = DetenuFactory(
        etablissement=etablissement, numero_ecrou="424242", date_naissance=datetime.date(1980, 1, 2)
    )
    creer_permis(
        etablissement=etablissement,
        detenu=detenu,
        numero="PV-CSP-0001",
        titulaire_nom="DUBOIS",
        titulaire_prenoms="Angela",
        titulaire_date_naissance=datetime.date(1962, 8, 24),
        date_debut=datetime.date(2026, 1, 1),
        date_fin=datetime.date(2026, 12, 31),
    )
    contexte = navigateur.new_context(base_url=live_server.url, locale="fr-FR")
    page = contexte.new_page()
    violations, politiques = [], {}
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on("pageerror", lambda e: violations.append(f"JavaScript : {e}"))
    page.on(
        "response",
        lambda r: (
            politiques.setdefault(r.url, r.headers.get("content-security-policy"))
            if r.request.resource_type == "document"
            else None
        ),
    )
    try:
        page.goto("/admin/login/")
        page.get_by_label("Nom d’utilisateur").fill(superutilisateur.username)
        page.get_by_label("Mot de passe").fill(MOT_DE_PASSE)
        page.get_by_role("button", name="Connexion").click()
        expect(page.get_by_role("heading", name="Administration")).to_be_visible()

        # The actions bar (actions.js): ticking a row updates the counter.
        page.goto("/admin/permis/permisdevisite/")
        page.locator("input.action-select").first.check()
        expect(page.locator(".action-counter")).to_contain_text("1 sur 1")

        # A detainee's form: the calendar shortcuts (DateTimeShortcuts.js) are added by
        # script next to each date field, and work.
        page.goto("/admin/regie/detenu/add/")
        raccourcis = page.locator(".datetimeshortcuts").first
        expect(raccourcis).to_be_visible()
        raccourcis.locator("a").first.click()  # « Aujourd'hui »
        expect(page.locator("input.vDateField").first).not_to_have_value("")
        page.goto(f"/admin/regie/detenu/{detenu.pk}/change/")
        page.goto("/admin/regie/etablissement/")
        page.goto("/admin/pecule/virement/")
    finally:
        contexte.close()

    assert not violations, "\n".join(violations)
    assert politiques and all(politiques.values()), politiques
    for url, politique in politiques.items():
        directives = _directives(politique)
        assert directives["script-src"] == "'self'", (url, politique)
        assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
        assert "'unsafe-eval'" not in politique


def test_chaque_reponse_du_back_office_a_une_politique(client, superutilisateur):
    client.force_login(superutilisateur)
    for chemin in ("/admin/login/", "/admin/", "/admin/regie/etablissement/", "/admin/jsi18n/"):
        reponse = client.get(chemin)
        politique = reponse.headers.get("Content-Security-Policy", "")
        assert "script-src 'self'" in politique, (chemin, reponse.status_code, politique)
    # The public pages keep their own, stricter policy.
    assert "'unsafe-inline'" not in client.get("/").headers["Content-Security-Policy"]
