"""In a real browser (Debian's chromium, headless): the statement being prepared becomes
a download link without reloading the page (static/portail/releve.js, strict CSP), and
the link downloads the PDF."""

import pytest

from pecule.models import ReleveProche, StatutReleve
from pecule.releves import services
from tests.chromium import lancer_chromium

from .conftest import ARTEFACTS


@pytest.fixture(scope="module")
def navigateur():
    """One headless chromium for the module (module scope: see `lancer_chromium`)."""
    with lancer_chromium(delai_expect_ms=15_000) as chromium:
        yield chromium


def test_pret_sans_recharger_la_page(
    transactional_db, navigateur, live_server, client, virements_du_proche, tmp_path
):
    from playwright.sync_api import expect

    proche = virements_du_proche["proche"]
    # A request whose task has not run yet (as with a busy worker).
    maintenant = services.periode_des_six_derniers_mois()[1]
    releve = ReleveProche.objects.create(
        proche=proche,
        debut=services.periode_des_six_derniers_mois(maintenant)[0],
        fin=maintenant,
        demande_le=maintenant,
        expire_le=maintenant + services.retention(),
    )
    client.force_login(proche)
    hote = live_server.url.split("//", 1)[1].split(":", 1)[0]
    contexte = navigateur.new_context(base_url=live_server.url, accept_downloads=True)
    contexte.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "domain": hote,
                "path": "/",
            }
        ]
    )
    page = contexte.new_page()
    erreurs = []
    page.on("pageerror", lambda exc: erreurs.append(str(exc)))
    page.on("console", lambda m: m.type == "error" and erreurs.append(m.text))
    try:
        page.goto("/espace/pecule/releves/")
        element = page.locator(f"#releve-{releve.pk}")
        expect(element).to_contain_text("Votre relevé est en préparation.")
        expect(element.get_by_role("link", name="Actualiser")).to_be_visible()
        requetes = []
        page.on("request", lambda r: "/statut/" in r.url and requetes.append(r.url))

        services.produire(releve.pk)  # the worker finishes
        assert ReleveProche.objects.get(pk=releve.pk).statut == StatutReleve.PRET

        lien = element.get_by_role("link", name="Télécharger le relevé")
        expect(lien).to_be_visible()
        expect(page.locator("#releves-annonce")).to_contain_text("Votre relevé est prêt.")
        assert requetes, "the status was not polled"
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTEFACTS / "page-releves-pdf.png"), full_page=True)
        with page.expect_download() as attente:
            lien.click()
        telechargement = attente.value
        chemin = tmp_path / "releve.pdf"
        telechargement.save_as(chemin)
        assert chemin.read_bytes().startswith(b"%PDF-1.7")
        assert telechargement.suggested_filename.startswith("releve-virements-")
        assert not erreurs, erreurs
    finally:
        contexte.close()
