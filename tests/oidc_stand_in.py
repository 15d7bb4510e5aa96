"""Starts the real local FranceConnect stand-in (oidc/server.mjs, panva's oidc-provider)
for the tests, and drives its login page over HTTP like a browser would."""

import json
import os
import re
import subprocess
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import requests

from tests.csp import autoriser_suite_de_formulaire

RACINE = Path(__file__).resolve().parent.parent
DOSSIER_OIDC = RACINE / "oidc"


class FournisseurOidc:
    def __init__(self):
        if not (DOSSIER_OIDC / "node_modules" / "oidc-provider").is_dir():
            raise RuntimeError("Run `npm ci` in oidc/ first (make test does it).")
        env = {
            **os.environ,
            "OIDC_PORT": "0",
            "OIDC_TESTING": "1",
            "OIDC_ALLOW_ANY_LOCALHOST_REDIRECT": "1",
        }
        self.processus = subprocess.Popen(
            ["node", str(DOSSIER_OIDC / "server.mjs")],
            cwd=DOSSIER_OIDC,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.issuer = self._attendre_issuer()
        threading.Thread(target=self._vider_sortie, daemon=True).start()
        self.identites = _identites()

    @classmethod
    def distant(cls, issuer: str) -> "FournisseurOidc":
        """A stand-in that runs elsewhere (the demo stack's container, scripts/
        parcours_fumee.py): only its login page is driven, no process is started."""
        fournisseur = cls.__new__(cls)
        fournisseur.processus = None
        fournisseur.issuer = issuer
        fournisseur.identites = _identites()
        return fournisseur

    def _attendre_issuer(self) -> str:
        for ligne in self.processus.stdout:
            trouve = re.search(r"listening on (http://\S+)", ligne)
            if trouve:
                return trouve.group(1)
        raise RuntimeError(f"The OIDC stand-in did not start (exit {self.processus.wait()}).")

    def _vider_sortie(self):
        for _ in self.processus.stdout:
            pass

    def arreter(self):
        self.processus.terminate()
        self.processus.wait(timeout=10)
        self.processus.stdout.close()

    def armer(self, **deviations):
        """Make the next ID token / userinfo deviate (test hook of the stand-in)."""
        requests.post(
            f"{self.base}/__test__/next-id-token-overrides", json=deviations, timeout=5
        ).raise_for_status()

    def desarmer(self):
        requests.delete(f"{self.base}/__test__/next-id-token-overrides", timeout=5)

    @property
    def base(self) -> str:
        return self.issuer.rsplit("/api/v2", 1)[0]

    def configurer(self, settings):
        settings.FRANCECONNECT_ISSUER = self.issuer
        settings.FRANCECONNECT_LOGOUT_URL = f"{self.issuer}/session/end"
        settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{self.issuer}/authorize"
        settings.OIDC_OP_TOKEN_ENDPOINT = f"{self.issuer}/token"
        settings.OIDC_OP_USER_ENDPOINT = f"{self.issuer}/userinfo"
        settings.OIDC_OP_JWKS_ENDPOINT = f"{self.issuer}/jwks"
        autoriser_suite_de_formulaire(settings, self.base)

    def se_connecter(self, url_authorize: str, login: str = "test", annuler: bool = False) -> str:
        """Play the user on the provider's pages; return the URL it sends the browser back to."""
        navigateur = requests.Session()
        url = url_authorize
        reponse = navigateur.get(url, allow_redirects=False, timeout=10)
        while reponse.is_redirect and "/interaction/" in reponse.headers["Location"]:
            url = urljoin(url, reponse.headers["Location"])
            reponse = navigateur.get(url, allow_redirects=False, timeout=10)
        formulaires = _formulaires(reponse.text)
        if annuler:
            reponse = navigateur.post(
                urljoin(url, formulaires["annulation"]), allow_redirects=False, timeout=10
            )
        else:
            identite = self.identites[login]
            reponse = navigateur.post(
                urljoin(url, formulaires["connexion"]),
                data={"login": identite["login"], "password": identite["password"]},
                allow_redirects=False,
                timeout=10,
            )
        # Follow the provider's own redirects until it sends the browser back to the client.
        while reponse.is_redirect:
            suivante = urljoin(url, reponse.headers["Location"])
            if not suivante.startswith(self.base):
                return suivante
            url = suivante
            reponse = navigateur.get(url, allow_redirects=False, timeout=10)
        raise AssertionError(f"The provider did not redirect back ({reponse.status_code}).")


def _identites() -> dict:
    return {
        i["login"]: i
        for i in json.loads((DOSSIER_OIDC / "identities.json").read_text())["identities"]
    }


class _Formulaires(HTMLParser):
    def __init__(self):
        super().__init__()
        self.actions = {}

    def handle_starttag(self, tag, attrs):
        attributs = dict(attrs)
        if tag == "form" and attributs.get("id"):
            self.actions[attributs["id"]] = attributs.get("action")


def _formulaires(html: str) -> dict:
    parseur = _Formulaires()
    parseur.feed(html)
    return parseur.actions
