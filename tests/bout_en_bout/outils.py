"""What the end-to-end tests share: the browser's settings, screenshots, bounded waits on
the database and the sandbox, and the relative's steps over plain HTTP (Django's test
client for the portal, `BanqueSandbox.payer` for the bank's pages)."""

from __future__ import annotations

import datetime
import html
import re
import uuid
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from django.urls import reverse

from tests.sandbox_banque import attendre

RACINE = Path(__file__).resolve().parents[2]
CAPTURES = RACINE / "test-artifacts" / "captures" / "bout-en-bout"
DELAI = 15.0  # seconds: the longest any single wait of these tests may take

CHEMIN_NOTIFICATIONS = "/paiements/notifications/sandbox/"
MOT_DE_PASSE_AGENT = "mot-de-passe-de-test-123"

# The sandbox with short delays: retries in tens of milliseconds, the "pending" outcomes
# settle after 0.5 s.
ENV_RAPIDE = {
    "SANDBOX_RETRY_BASE": "0.05",
    "SANDBOX_RETRY_MAX": "0.5",
    "SANDBOX_ATTENTE_SECONDES": "0.5",
    "SANDBOX_TICK": "0.05",
    "SANDBOX_NOTIFICATION_TIMEOUT": "5",
}

ETABLISSEMENT = "Centre pénitentiaire de Bout-en-Bout"
CODE_ETABLISSEMENT = "CP-E2E"
IBAN_REGIE = "FR7630006000011234567890189"
PLAFOND_PAR_VIREMENT = Decimal("200.00")
PLAFOND_MENSUEL = Decimal("400.00")
ANGELA = {
    "nom": "DUBOIS",
    "prenoms": "Angela Claire Louise",
    "naissance": datetime.date(1962, 8, 24),
}


# --- Text -----------------------------------------------------------------------------------


def texte_html(reponse) -> str:
    """A response's HTML, entities decoded, every run of spaces (of any kind) one space."""
    return re.sub(r"\s+", " ", html.unescape(reponse.content.decode()))


def sans_espaces(texte: str) -> str:
    """Amounts compared whatever their spaces (150,00 € with a no-break space or not)."""
    return re.sub(r"\s", "", texte)


# --- Bounded waits --------------------------------------------------------------------------


def attendre_virement(virement, condition, delai: float = DELAI, message: str = ""):
    """Reload the transfer from the database until `condition(virement)` holds."""

    def verifier():
        virement.refresh_from_db()
        return condition(virement)

    attendre(
        verifier,
        delai=delai,
        pas=0.05,
        message=message
        or f"{virement.reference}: {virement.statut_paiement} / {virement.statut_regie}",
    )
    return virement


def attendre_notifications_traitees(banque, virement, statuts: set[str], delai: float = DELAI):
    """Wait until the sandbox has delivered a notification for each raw status in
    `statuts` for this payment, and the portal has stored and processed every one of
    them (its inbox row has `traitee_le`). Returns the sandbox's notification log."""
    from pecule.models import NotificationRecue

    def fini():
        journal = banque.notifications(virement.id_fournisseur)
        if not statuts <= {n["statut"] for n in journal}:
            return None
        if any(n["etat"] != "livree" for n in journal):
            return None
        ids = {n["id_evenement"] for n in journal}
        recues = NotificationRecue.objects.filter(fournisseur="sandbox", id_evenement__in=ids)
        if recues.count() != len(ids) or recues.filter(traitee_le__isnull=True).exists():
            return None
        return journal

    return attendre(
        fini,
        delai=delai,
        pas=0.05,
        message=f"notifications of {virement.id_fournisseur} not all delivered and processed: "
        f"{banque.notifications(virement.id_fournisseur)}",
    )


# --- Screenshots ----------------------------------------------------------------------------


def capturer(page, nom: str) -> Path:
    """A full-page screenshot: test-artifacts/captures/bout-en-bout/<nom>.png."""
    CAPTURES.mkdir(parents=True, exist_ok=True)
    chemin = CAPTURES / f"{nom}.png"
    page.screenshot(path=str(chemin), full_page=True, animations="disabled")
    return chemin


class Journal:
    """The portal's JavaScript errors and Content-Security-Policy violations, read from
    the browser console (the sandbox's pages are not ours, except for CSP violations).

    One kind is tolerated, not failed on: an "Applying inline style" report raised from
    DSFR's own script (static/dsfr/), seen once under load and never reproduced; it is
    about the portal's look, not the transfer, and is written to
    test-artifacts/captures/bout-en-bout/console-toleree.txt for the portal's owners."""

    FICHIER_TOLERES = CAPTURES / "console-toleree.txt"

    def __init__(self, page, origine: str):
        self.page = page
        self.origine = origine
        self.erreurs: list[str] = []
        self.toleres: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self._noter(page.url, f"JavaScript : {exc}"))

    def _console(self, message):
        if message.type == "error":
            self._noter(message.location.get("url") or "", message.text)

    def _noter(self, url: str, texte: str):
        ligne = f"page {self.page.url} – {url} : {texte}"
        if "/static/dsfr/" in url and texte.startswith("Applying inline style violates"):
            self.toleres.append(ligne)
        elif url.startswith(self.origine) or "Content Security Policy" in texte:
            self.erreurs.append(ligne)

    def verifier(self):
        if self.toleres:
            self.FICHIER_TOLERES.parent.mkdir(parents=True, exist_ok=True)
            with self.FICHIER_TOLERES.open("a", encoding="utf-8") as fichier:
                fichier.write("\n".join(self.toleres) + "\n")
        assert not self.erreurs, "Erreurs dans la console du navigateur :\n" + "\n".join(
            self.erreurs
        )


def proche_avec_permis(situation):
    """Angela's account with her permit registered, as after the browser's steps 1 and 2
    (for the tests played over plain HTTP)."""
    from comptes.models import Utilisateur
    from permis.models import PermisEnregistre

    proche = Utilisateur.objects.create(
        username=f"fc-{uuid.uuid4().hex[:12]}",
        fc_sub=uuid.uuid4().hex,
        fc_given_name=ANGELA["prenoms"],
        fc_family_name=ANGELA["nom"],
        fc_birthdate=ANGELA["naissance"],
        email="angela.dubois@example.fr",
    )
    enregistrement = PermisEnregistre.objects.create(proche=proche, permis=situation["permis"])
    return proche, enregistrement


# --- The relative over plain HTTP -----------------------------------------------------------


class Proche:
    """Angela on the portal through Django's test client, with the live server's host:
    the return URL the portal gives the bank is then the live server's, as in a browser."""

    def __init__(self, client, live_server, enregistrement):
        self.client = client
        self.hote = urlsplit(live_server.url).netloc
        self.live_server = live_server
        self.enregistrement = enregistrement

    def get(self, chemin: str):
        return self.client.get(chemin, HTTP_HOST=self.hote)

    def post(self, chemin: str, donnees: dict | None = None):
        return self.client.post(chemin, donnees or {}, HTTP_HOST=self.hote)

    @property
    def url_alimenter(self) -> str:
        return reverse("pecule:alimenter", args=[self.enregistrement.pk])

    def jeton(self) -> str:
        """The hidden token of a freshly displayed amount form."""
        reponse = self.get(self.url_alimenter)
        assert reponse.status_code == 200
        trouve = re.search(r'name="jeton" value="([0-9a-f-]{36})"', reponse.content.decode())
        assert trouve, "hidden token not found in the amount form"
        return trouve.group(1)

    def realiser_virement(self, montant: str, jeton: str | None = None):
        """« Réaliser le virement »: the response (302 to the bank, or the form again)."""
        return self.post(self.url_alimenter, {"montant": montant, "jeton": jeton or self.jeton()})

    def virer(self, montant: str):
        """Type the amount and submit: returns (the transfer, the bank's URL)."""
        from pecule.models import Virement

        jeton = self.jeton()
        reponse = self.realiser_virement(montant, jeton)
        assert reponse.status_code == 302, texte_html(reponse)
        virement = Virement.objects.get(cle_idempotence=jeton)
        assert reponse["Location"] == virement.url_banque
        return virement, reponse["Location"]

    def url_retour(self, virement) -> str:
        return self.live_server.url + reverse("pecule:retour", args=[virement.cle_idempotence])

    def revenir(self, url: str):
        """Follow the bank's redirect back to the portal (a live server URL)."""
        assert url.startswith(self.live_server.url), url
        return self.get(url[len(self.live_server.url) :])

    def confirmer(self, virement):
        return self.post(reverse("pecule:confirmer", args=[virement.cle_idempotence]))

    def historique(self) -> str:
        reponse = self.get(reverse("pecule:historique"))
        assert reponse.status_code == 200
        return texte_html(reponse)


def ligne_historique(texte: str, reference: str) -> str:
    """The history table's row of one transfer, as text."""
    trouve = re.search(rf"<tr>\s*<td>[^<]*</td>\s*<td>{reference}</td>.*?</tr>", texte)
    assert trouve, f"{reference} not in the history"
    return re.sub(r"<[^>]+>", " ", trouve.group(0))
