"""What the browser tests share: screens, the stand-in's login page, axe-core, the 360 px
checks and the screenshots (docs/tests-navigateur.md)."""

import json
import re
from pathlib import Path

from playwright.sync_api import Page, expect

RACINE = Path(__file__).resolve().parents[2]
ARTEFACTS = RACINE / "test-artifacts"
CAPTURES = ARTEFACTS / "captures"
RAPPORTS_AXE = ARTEFACTS / "axe"

BUREAU = "bureau"
MOBILE = "mobile-360"
LARGEUR_MOBILE = 360
PROFILS = {
    BUREAU: {"viewport": {"width": 1280, "height": 800}},
    MOBILE: {
        "viewport": {"width": LARGEUR_MOBILE, "height": 740},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}

# --- The portal's own errors ------------------------------------------------------------


class Journal:
    """Records the portal's JavaScript errors, failed loads and Content-Security-Policy
    violations (console errors), ignoring the stand-in's pages, which are not ours."""

    def __init__(self, page: Page, origine: str):
        self.origine = origine
        self.erreurs: list[str] = []
        self.attendues: list[re.Pattern] = []
        self.axe_en_cours = False
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self._noter(page.url, f"JavaScript : {exc}"))

    def _console(self, message):
        if message.type == "error":
            url = message.location.get("url") or ""
            self._noter(url, message.text)

    def _noter(self, url: str, texte: str):
        if any(attendue.search(texte) for attendue in self.attendues):
            return
        if self.axe_en_cours:
            # axe-core's own doing, not the portal's: to read the style sheets it copies
            # them into <style> elements (refused by the strict CSP) and fetches their
            # @import relative to the page (Django admin's forms.css: a 404).
            return
        if url.startswith(self.origine) or "Content Security Policy" in texte:
            self.erreurs.append(f"{url} : {texte}")

    def attendre(self, motif: str):
        """An error the test expects (e.g. a page answered with an error status)."""
        self.attendues.append(re.compile(motif))

    def verifier(self):
        assert not self.erreurs, "Erreurs dans la console du navigateur :\n" + "\n".join(
            self.erreurs
        )


# --- FranceConnect (the local stand-in) -------------------------------------------------


def se_connecter(page: Page, portail_url: str, identite: dict) -> None:
    """From the home page: the FranceConnect button, the stand-in's login page, back on
    the relative's « Accueil »."""
    page.goto("/")
    page.get_by_role("button", name="S’identifier avec FranceConnect").click()
    expect(
        page.get_by_role("heading", name="Connexion au fournisseur d'identité de test")
    ).to_be_visible()
    page.get_by_label("Identifiant").fill(identite["login"])
    page.get_by_label("Mot de passe").fill(identite["password"])
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(f"{portail_url}/espace/")
    expect(page.get_by_role("heading", level=1, name="Accueil")).to_be_visible()


# --- axe-core ---------------------------------------------------------------------------

# The rule sets checked: WCAG 2.0, 2.1 and 2.2 levels A and AA (what the RGAA maps to),
# and axe's best practices.
NORMES_AXE = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
# Rules switched off, each with its reason (docs/tests-navigateur.md). None so far.
REGLES_AXE_EXCLUES: dict[str, str] = {}
IMPACTS_BLOQUANTS = {"serious", "critical"}


def verifier_accessibilite(page: Page, nom: str, profil: str) -> list[dict]:
    """Run axe-core on the page as it is; keep the report under test-artifacts/axe/ and
    fail on any serious or critical violation. Returns all the violations."""
    from axe_playwright_python.sync_playwright import Axe

    options = {
        "runOnly": {"type": "tag", "values": NORMES_AXE},
        "resultTypes": ["violations"],
        "rules": {regle: {"enabled": False} for regle in REGLES_AXE_EXCLUES},
    }
    journal = getattr(page, "journal", None)
    if journal is not None:
        journal.axe_en_cours = True
    try:
        resultats = Axe().run(page, options=options)
    finally:
        if journal is not None:
            journal.axe_en_cours = False
    violations = resultats.response["violations"]
    dossier = RAPPORTS_AXE / profil
    dossier.mkdir(parents=True, exist_ok=True)
    (dossier / f"{nom}.json").write_text(
        json.dumps(
            {"url": page.url, "axe": resultats.response["testEngine"], "violations": violations},
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    bloquantes = [v for v in violations if v["impact"] in IMPACTS_BLOQUANTS]
    assert not bloquantes, f"axe-core, page « {nom} » ({profil}), {page.url} :\n" + "\n".join(
        _decrire(v) for v in bloquantes
    )
    return violations


def _decrire(violation: dict) -> str:
    cibles = "; ".join(" ".join(n["target"]) for n in violation["nodes"][:5])
    return f"- {violation['id']} ({violation['impact']}) : {violation['help']} → {cibles}"


# --- Phone screens ----------------------------------------------------------------------


def verifier_mobile(page: Page, bouton_principal=None) -> None:
    """No horizontal scroll at 360 px, and the page's main button on screen."""
    largeur = page.evaluate("document.documentElement.scrollWidth")
    assert largeur <= LARGEUR_MOBILE, (
        f"{page.url} défile horizontalement sur un écran de {LARGEUR_MOBILE} px "
        f"(largeur du document : {largeur} px)"
    )
    if bouton_principal is not None:
        bouton_principal.scroll_into_view_if_needed()
        expect(bouton_principal).to_be_visible()
        expect(bouton_principal).to_be_in_viewport(ratio=1)


# --- Screenshots ------------------------------------------------------------------------


def capturer(page: Page, profil: str, nom: str) -> Path:
    """A full-page screenshot: test-artifacts/captures/<profil>/<nom>.png."""
    dossier = CAPTURES / profil
    dossier.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.fonts.ready")
    chemin = dossier / f"{nom}.png"
    page.screenshot(path=str(chemin), full_page=True, animations="disabled")
    return chemin


def texte_sans_espaces(page: Page) -> str:
    """The page's visible text with every kind of space removed, to look for amounts
    whatever their formatting (1 234,56 € or 1234.56)."""
    return re.sub(r"\s", "", page.locator("body").inner_text())


class Etapes:
    """The checks made on each page a test reaches: axe-core, the 360 px layout (phone
    profile), the main button on screen, and a screenshot."""

    def __init__(self, page: Page, profil: str):
        self.page = page
        self.profil = profil

    @property
    def mobile(self) -> bool:
        return self.profil == MOBILE

    def verifier(self, nom: str, bouton_principal=None) -> None:
        verifier_accessibilite(self.page, nom, self.profil)
        if self.mobile:
            verifier_mobile(self.page, bouton_principal)
        elif bouton_principal is not None:
            expect(bouton_principal).to_be_visible()
        capturer(self.page, self.profil, nom)

    def menu(self, entree: str) -> None:
        """Follow an entry of the main menu (behind the « Menu » button on a phone)."""
        if self.mobile:
            self.page.get_by_role("button", name="Menu").click()
            expect(self.page.get_by_role("dialog")).to_be_visible()
        navigation = self.page.get_by_role("navigation", name="Menu principal")
        navigation.get_by_role("link", name=entree, exact=True).click()

    def se_deconnecter(self) -> None:
        if self.mobile:
            self.page.get_by_role("button", name="Menu").click()
        self.page.get_by_role("button", name="Se déconnecter").click()
