"""Starts the real sandbox bank (sandbox/, `python -m sandbox`) for the tests, drives its
test switches, and plays the relative on its bank pages over plain HTTP like a browser would.
Also a small local HTTP receiver that records the notifications the sandbox POSTs.

Everything is bounded: reads, joins and waits have timeouts, so a test never hangs."""

import contextlib
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin

import requests

RACINE = Path(__file__).resolve().parent.parent
SECRET = "secret-de-test-de-la-sandbox"
DELAI_HTTP = 10


def attendre(condition, delai: float = 10.0, pas: float = 0.02, message: str = ""):
    """Poll `condition()` until it returns something truthy; AssertionError after `delai`."""
    fin = time.monotonic() + delai
    while True:
        resultat = condition()
        if resultat:
            return resultat
        if time.monotonic() > fin:
            raise AssertionError(message or f"condition not met within {delai} s")
        time.sleep(pas)


class BanqueSandbox:
    """One sandbox bank process on a free port, with its own SQLite file."""

    def __init__(self, chemin_base: str | os.PathLike, secret: str = SECRET, **env):
        self.chemin_base = str(chemin_base)
        self.secret = secret
        self.env = {
            "SANDBOX_PORT": "0",
            "SANDBOX_DB": self.chemin_base,
            "SANDBOX_SECRET": secret,
            **{cle: str(valeur) for cle, valeur in env.items()},
        }
        self.processus: subprocess.Popen | None = None
        self.url = ""
        self._journal = None
        self._vidange = None

    # --- Process -----------------------------------------------------------------------

    def demarrer(self, delai: float = 30.0) -> "BanqueSandbox":
        descripteur, chemin_journal = tempfile.mkstemp(prefix="sandbox-", suffix=".log")
        os.close(descripteur)
        self._journal = Path(chemin_journal)
        with self._journal.open("wb") as journal:
            self.processus = subprocess.Popen(
                [sys.executable, "-m", "sandbox"],
                cwd=RACINE,
                env={**os.environ, **self.env},
                stdout=subprocess.PIPE,
                stderr=journal,
                text=True,
            )
        lignes: queue.Queue = queue.Queue()

        def lire():
            for ligne in self.processus.stdout:
                lignes.put(ligne)
            lignes.put(None)

        self._vidange = threading.Thread(target=lire, daemon=True)
        self._vidange.start()
        fin = time.monotonic() + delai
        while time.monotonic() < fin:
            try:
                ligne = lignes.get(timeout=max(0.05, fin - time.monotonic()))
            except queue.Empty:
                break
            if ligne is None:
                break
            if ligne.startswith("Sandbox bank listening on "):
                self.url = ligne.split(" on ", 1)[1].strip()
                return self
        self.arreter()
        raise RuntimeError(f"The sandbox bank did not start:\n{self.journal()}")

    def arreter(self, delai: float = 15.0) -> None:
        if self.processus is None:
            return
        if self.processus.poll() is None:
            self.processus.terminate()
            try:
                self.processus.wait(timeout=delai)
            except subprocess.TimeoutExpired:
                self.processus.kill()
                self.processus.wait(timeout=delai)
        if self._vidange is not None:
            self._vidange.join(timeout=delai)
        self.processus.stdout.close()
        self.processus = None
        if self._journal is not None:
            self._journal.unlink(missing_ok=True)
            self._journal = None

    def redemarrer(self) -> "BanqueSandbox":
        """Stop and start again on the same port and SQLite file (like a real restart: the
        payments' bank page URLs stay valid)."""
        port = self.url.rsplit(":", 1)[1]
        self.arreter()
        self.env["SANDBOX_PORT"] = port
        try:
            return self.demarrer()
        finally:
            self.env["SANDBOX_PORT"] = "0"

    def journal(self) -> str:
        """The process's stderr so far (for failure messages)."""
        if self._journal is None or not self._journal.exists():
            return ""
        return self._journal.read_text(errors="replace")[-5000:]

    # --- API and test switches ---------------------------------------------------------

    def api(self, methode: str, chemin: str, **kwargs) -> requests.Response:
        entetes = {"Authorization": f"Bearer {self.secret}", **kwargs.pop("headers", {})}
        return requests.request(
            methode, f"{self.url}{chemin}", headers=entetes, timeout=DELAI_HTTP, **kwargs
        )

    def configurer(self, **interrupteurs) -> dict:
        reponse = self.api("POST", "/__admin__/config", json=interrupteurs)
        assert reponse.status_code == 200, reponse.text
        return reponse.json()

    def config(self) -> dict:
        return self.api("GET", "/__admin__/config").json()

    def reinitialiser(self) -> None:
        reponse = self.api("POST", "/__admin__/reset")
        assert reponse.status_code == 200, reponse.text

    def notifications(self, paiement_id: str | None = None) -> list[dict]:
        params = {"paiement_id": paiement_id} if paiement_id else None
        reponse = self.api("GET", "/__admin__/notifications", params=params)
        assert reponse.status_code == 200, reponse.text
        return reponse.json()

    def paiement(self, identifiant: str) -> dict:
        reponse = self.api("GET", f"/api/paiements/{identifiant}")
        assert reponse.status_code == 200, reponse.text
        return reponse.json()

    def forcer_statut(self, identifiant: str, statut: str, **champs) -> dict:
        reponse = self.api(
            "POST", f"/__admin__/paiements/{identifiant}/statut", json={"statut": statut, **champs}
        )
        assert reponse.status_code == 200, reponse.text
        return reponse.json()

    def fournisseur(self, **options):
        """The portal's adapter, pointed at this sandbox."""
        from pecule.fournisseurs.sandbox import FournisseurSandbox

        return FournisseurSandbox(
            nom="sandbox", **{"url": self.url, "secret": self.secret, **options}
        )

    def configurer_portail(self, settings) -> None:
        """Point the portal's "sandbox" provider at this process (pytest-django `settings`)."""
        from pecule import fournisseurs
        from tests.csp import autoriser_suite_de_formulaire

        settings.PECULE_FOURNISSEURS = {
            **settings.PECULE_FOURNISSEURS,
            "sandbox": {
                "CLASSE": "pecule.fournisseurs.sandbox.FournisseurSandbox",
                "OPTIONS": {"url": self.url, "secret": self.secret},
            },
        }
        fournisseurs.reinitialiser()
        autoriser_suite_de_formulaire(settings, self.url.rstrip("/"))

    # --- The relative on the bank pages ------------------------------------------------

    def payer(
        self,
        url_redirection: str,
        banque: str = "banque-exemple",
        issue: str = "succes",
        annuler: bool = False,
        identifiant: str = "demo",
        code: str = "1234",
    ) -> str | None:
        """Choose the bank, log in, pick the outcome, then validate (or cancel). Returns the
        URL the bank sends the browser back to, or None when the relative abandons."""
        navigateur = requests.Session()
        with navigateur:
            reponse = navigateur.get(url_redirection, timeout=DELAI_HTTP)
            assert reponse.status_code == 200, reponse.text
            url = urljoin(reponse.url, _elements(reponse.text)["liens"][f"banque-{banque}"])
            reponse = navigateur.get(url, timeout=DELAI_HTTP)
            assert reponse.status_code == 200, reponse.text
            action = _elements(reponse.text)["formulaires"]["formulaire-connexion"]
            reponse = navigateur.post(
                urljoin(url, action),
                data={"identifiant": identifiant, "code": code},
                allow_redirects=False,
                timeout=DELAI_HTTP,
            )
            assert reponse.status_code == 303, reponse.text
            url = urljoin(url, reponse.headers["Location"])
            reponse = navigateur.get(url, timeout=DELAI_HTTP)
            assert reponse.status_code == 200, reponse.text
            action = _elements(reponse.text)["formulaires"]["formulaire-validation"]
            donnees = {"action": "annuler"} if annuler else {"action": "valider", "issue": issue}
            reponse = navigateur.post(
                urljoin(url, action), data=donnees, allow_redirects=False, timeout=DELAI_HTTP
            )
            if reponse.status_code == 303:
                return urljoin(url, reponse.headers["Location"])
            if issue == "abandon" and not annuler and reponse.status_code == 200:
                return None
            raise AssertionError(f"The bank did not redirect ({reponse.status_code}).")

    def annuler_depuis_selection(self, url_redirection: str) -> str:
        """Cancel on the bank selection page; returns where the bank redirects."""
        with requests.Session() as navigateur:
            reponse = navigateur.get(url_redirection, timeout=DELAI_HTTP)
            action = _elements(reponse.text)["formulaires"]["formulaire-annulation"]
            reponse = navigateur.post(
                urljoin(reponse.url, action), allow_redirects=False, timeout=DELAI_HTTP
            )
            assert reponse.status_code == 303, reponse.text
            return urljoin(url_redirection, reponse.headers["Location"])


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.formulaires: dict[str, str] = {}
        self.liens: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attributs = dict(attrs)
        if tag == "form" and attributs.get("id"):
            self.formulaires[attributs["id"]] = attributs.get("action") or ""
        elif tag == "a" and attributs.get("id"):
            self.liens[attributs["id"]] = attributs.get("href") or ""


def _elements(html: str) -> dict:
    parseur = _Elements()
    parseur.feed(html)
    return {"formulaires": parseur.formulaires, "liens": parseur.liens}


class RecepteurNotifications:
    """A local HTTP server (127.0.0.1, free port) recording every POST it receives; it
    answers the codes queued in `reponses` first, then `code_par_defaut`."""

    def __init__(self, code_par_defaut: int = 200):
        self.code_par_defaut = code_par_defaut
        self.reponses: list[int] = []
        self.recues: list[dict] = []
        self._condition = threading.Condition()
        recepteur = self

        class Gestionnaire(BaseHTTPRequestHandler):
            def do_POST(self):
                longueur = int(self.headers.get("Content-Length") or 0)
                corps = self.rfile.read(longueur)
                with recepteur._condition:
                    code = (
                        recepteur.reponses.pop(0)
                        if recepteur.reponses
                        else recepteur.code_par_defaut
                    )
                    recepteur.recues.append(
                        {
                            "chemin": self.path,
                            "entetes": dict(self.headers.items()),
                            "corps": corps,
                            "recue_le": time.time(),
                            "code": code,
                        }
                    )
                    recepteur._condition.notify_all()
                reponse = json.dumps({"code": code}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reponse)))
                self.end_headers()
                self.wfile.write(reponse)

            def log_message(self, *args):
                pass

        self.serveur = ThreadingHTTPServer(("127.0.0.1", 0), Gestionnaire)
        self.serveur.daemon_threads = True
        self._fil = threading.Thread(
            target=self.serveur.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._fil.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.serveur.server_port}/paiements/notifications/sandbox/"

    def attendre(self, nombre: int, delai: float = 10.0) -> list[dict]:
        """The first `nombre` notifications received (AssertionError after `delai`)."""
        fin = time.monotonic() + delai
        with self._condition:
            while len(self.recues) < nombre:
                reste = fin - time.monotonic()
                if reste <= 0:
                    raise AssertionError(
                        f"{len(self.recues)} notification(s) received, {nombre} expected"
                    )
                self._condition.wait(timeout=reste)
            return list(self.recues[:nombre])

    def toutes(self) -> list[dict]:
        with self._condition:
            return list(self.recues)

    def fermer(self) -> None:
        with contextlib.suppress(Exception):
            self.serveur.shutdown()
        self.serveur.server_close()
        self._fil.join(timeout=5)


def evenement(notification: dict) -> dict:
    """The JSON body of a received notification."""
    return json.loads(notification["corps"])
