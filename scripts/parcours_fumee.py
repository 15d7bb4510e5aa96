"""The smoke journey of the docker stage (scripts/ci-docker.sh), played from outside the
containers over plain HTTP, like a relative's browser would, against the demo stack
(docker-compose.yml + docker-compose.demo.yml):

 1. /sante/ answers 200 with every check OK; a static file comes from whitenoise (hashed
    name, cached for a year); the admin has its Content-Security-Policy;
 2. FranceConnect login through the stand-in (its login page, `test` / `123`);
 3. « Ajouter un permis de visite » (the demo permit PV-FRE-0001);
 4. a 25,00 € transfer through the sandbox bank's pages, back to the portal, « Confirmer »;
 5. the worker credits it (the history says « Crédité sur le compte nominatif »);
 6. the PDF statement: asked on the web, produced by the worker on the shared media
    volume, downloaded through the web container, and it lists the transfer;
 7. the logs are JSON lines, and the worker's lines for the statement carry the
    request id of the web request that asked for it.

It reuses the end-to-end tests' helpers (tests/oidc_stand_in.py, tests/sandbox_banque.py)
and needs the development venv (requests, pypdf). Each wait is bounded; any failure is an
AssertionError and exit code 1.

    .venv/bin/python scripts/parcours_fumee.py --web http://127.0.0.1:8080 \\
        --franceconnect http://127.0.0.1:59090/api/v2 --banque http://127.0.0.1:59100 \\
        --secret-banque SECRET --compose "docker-compose -p NAME -f ... -f ..."
"""

import argparse
import io
import json
import re
import shlex
import subprocess
import sys
import time
from html import unescape
from pathlib import Path
from urllib.parse import urljoin

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.oidc_stand_in import FournisseurOidc
from tests.sandbox_banque import BanqueSandbox, attendre

DELAI_HTTP = 20
MONTANT = "25,00"


def etape(texte: str) -> None:
    print(f"[fumée] {texte}", flush=True)


def texte(reponse: requests.Response) -> str:
    return re.sub(r"\s+", " ", unescape(reponse.text))


def champ_cache(html: str, nom: str) -> str:
    trouve = re.search(rf'name="{nom}" value="([^"]+)"', html)
    assert trouve, f"hidden field {nom} not found"
    return trouve.group(1)


class Portail:
    def __init__(self, url: str):
        self.url = url.rstrip("/")
        self.session = requests.Session()

    def get(self, chemin: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", DELAI_HTTP)
        return self.session.get(urljoin(self.url + "/", chemin.lstrip("/")), **kwargs)

    def post(self, chemin: str, donnees: dict, **kwargs) -> requests.Response:
        """A form post with the CSRF token of the page it comes from."""
        kwargs.setdefault("timeout", DELAI_HTTP)
        kwargs.setdefault("allow_redirects", False)
        url = urljoin(self.url + "/", chemin.lstrip("/"))
        entetes = {"Referer": url}
        return self.session.post(url, data=donnees, headers=entetes, **kwargs)


def verifier_sante_et_statiques(portail: Portail) -> None:
    reponse = portail.get("/sante/?format=json")
    assert reponse.status_code == 200, reponse.text
    verifications = reponse.json()
    assert verifications and set(verifications.values()) == {"OK"}, verifications
    noms = " ".join(verifications)
    for attendu in ("Database", "Cache", "Redis", "Ping", "DisqueMedias"):
        assert attendu in noms, f"{attendu} missing from /sante/: {noms}"
    etape(f"/sante/ : {len(verifications)} vérifications OK ({noms})")

    accueil = portail.get("/")
    assert accueil.status_code == 200
    feuille = re.search(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', accueil.text)
    assert feuille, "no hashed stylesheet in the home page (whitenoise manifest)"
    reponse = portail.get(feuille.group(1), headers={"Accept-Encoding": "gzip"})
    assert reponse.status_code == 200 and "text/css" in reponse.headers["Content-Type"]
    assert "max-age=315360000" in reponse.headers.get("Cache-Control", ""), reponse.headers
    etape(f"fichier statique servi par whitenoise : {feuille.group(1)}")
    # The media volume (PDF statements) is never served as files.
    for chemin in ("/media/", "/media/releves/", "/static/../media/"):
        assert portail.get(chemin).status_code == 404, chemin

    admin = portail.get("/admin/login/")
    politique = admin.headers.get("Content-Security-Policy", "")
    assert admin.status_code == 200 and "script-src 'self'" in politique, politique
    etape("back-office : Content-Security-Policy présente")


def connexion_franceconnect(portail: Portail, issuer: str) -> None:
    depart = portail.get("/oidc/authenticate/", allow_redirects=False)
    assert depart.status_code == 302 and depart.headers["Location"].startswith(issuer)
    retour = FournisseurOidc.distant(issuer).se_connecter(depart.headers["Location"], "test")
    assert retour.startswith(portail.url), retour
    reponse = portail.get(retour[len(portail.url) :], allow_redirects=False)
    assert reponse.status_code == 302 and reponse.headers["Location"].endswith("/espace/"), (
        reponse.status_code,
        reponse.headers.get("Location"),
    )
    accueil = texte(portail.get("/espace/"))
    assert "Bonjour Angela Claire Louise DUBOIS." in accueil, accueil[:2000]
    etape("connexion FranceConnect (bouchon) : Angela Claire Louise DUBOIS")


def ajouter_permis(portail: Portail) -> str:
    page = portail.get("/espace/permis/ajouter/")
    assert page.status_code == 200
    fresnes = re.search(r'<option value="(\d+)"[^>]*>[^<]*Fresnes', page.text)
    assert fresnes, "Fresnes not among the establishments"
    reponse = portail.post(
        "/espace/permis/ajouter/",
        {
            "csrfmiddlewaretoken": champ_cache(page.text, "csrfmiddlewaretoken"),
            "numero": "PV-FRE-0001",
            "etablissement": fresnes.group(1),
            "numero_ecrou": "194512",
        },
    )
    assert reponse.status_code == 302, texte(reponse)[:3000]
    accueil = portail.get("/espace/")
    assert "a été ajouté à votre espace" in texte(accueil)
    lien = re.search(r'href="(/espace/pecule/\d+/)"', accueil.text)
    assert lien, "no « Faire un virement » link"
    etape("permis PV-FRE-0001 ajouté")
    return lien.group(1)


def virer(portail: Portail, page_detenu: str, banque: BanqueSandbox) -> str:
    chemin = f"{page_detenu}alimenter/"
    formulaire = portail.get(chemin)
    assert formulaire.status_code == 200
    reponse = portail.post(
        chemin,
        {
            "csrfmiddlewaretoken": champ_cache(formulaire.text, "csrfmiddlewaretoken"),
            "jeton": champ_cache(formulaire.text, "jeton"),
            "montant": MONTANT,
        },
    )
    assert reponse.status_code == 302, texte(reponse)[:3000]
    url_banque = reponse.headers["Location"]
    assert url_banque.startswith(banque.url), url_banque
    retour = banque.payer(url_banque)
    assert retour and retour.startswith(portail.url), retour
    page_retour = portail.get(retour[len(portail.url) :])
    assert page_retour.status_code == 200
    confirmation = re.search(r'<form[^>]+action="([^"]*/confirmer/)"', page_retour.text)
    if confirmation:
        reponse = portail.post(
            confirmation.group(1),
            {"csrfmiddlewaretoken": champ_cache(page_retour.text, "csrfmiddlewaretoken")},
        )
        assert reponse.status_code in (200, 302), texte(reponse)[:3000]
    reference = re.search(r"\b(PEC-[0-9A-Z-]+)\b", texte(page_retour))
    etape(f"virement de {MONTANT} € validé à la banque de test")
    return reference.group(1) if reference else ""


def attendre_credit(portail: Portail) -> str:
    def credite():
        page = texte(portail.get("/espace/pecule/historique/"))
        return page if "Crédité sur le compte nominatif" in page else None

    page = attendre(credite, delai=90, pas=1, message="transfer not credited within 90 s")
    etape("virement crédité par le worker")
    return page


def releve_pdf(portail: Portail, reference: str) -> bytes:
    index = portail.get("/espace/pecule/releves/")
    assert index.status_code == 200
    reponse = portail.post(
        "/espace/pecule/releves/demander/",
        {"csrfmiddlewaretoken": champ_cache(index.text, "csrfmiddlewaretoken"), "detenu": ""},
    )
    assert reponse.status_code == 302, texte(reponse)[:3000]
    numero = re.search(r"#releve-(\d+)$", reponse.headers["Location"])
    assert numero, reponse.headers["Location"]

    def pret():
        etat = portail.get(f"/espace/pecule/releves/{numero.group(1)}/statut/").json()
        assert etat["statut"] != "erreur", etat
        return etat if etat.get("url") else None

    etat = attendre(pret, delai=120, pas=1, message="statement not ready within 120 s")
    pdf = portail.get(etat["url"])
    assert pdf.status_code == 200, pdf.status_code
    assert pdf.headers["Content-Type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
    from pypdf import PdfReader

    contenu = re.sub(
        r"\s", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    )
    assert "25,00" in contenu, contenu[:2000]
    if reference:
        assert reference.replace(" ", "") in contenu, (reference, contenu[:2000])
    etape(f"relevé PDF produit par le worker, téléchargé par le web ({len(pdf.content)} octets)")
    return pdf.content


def verifier_journaux(compose: list[str]) -> None:
    def lignes(service: str) -> list[dict]:
        sortie = subprocess.run(  # noqa: S603 - our own docker-compose command
            [*compose, "logs", "--no-color", "--no-log-prefix", service],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        objets = []
        for ligne in sortie.splitlines():
            ligne = ligne.strip()
            if ligne.startswith("{"):
                objets.append(json.loads(ligne))
        return objets

    web = lignes("web")
    demandes = [
        ligne
        for ligne in web
        if ligne.get("event") == "request_finished"
        and ligne.get("request", "").startswith("POST /espace/pecule/releves/demander/")
    ]
    assert demandes, "the web's JSON logs have no request_finished for the statement"
    identifiant = demandes[-1]["request_id"]
    worker = [ligne for ligne in lignes("worker") if ligne.get("request_id") == identifiant]
    evenements = {ligne.get("event") for ligne in worker}
    assert "task_started" in evenements, f"no worker line with request_id {identifiant}"
    etape(f"journaux JSON : la tâche du relevé porte le request_id {identifiant} de la requête")


def main() -> int:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--web", required=True)
    arguments.add_argument("--franceconnect", required=True, help="the stand-in's issuer")
    arguments.add_argument("--banque", required=True)
    arguments.add_argument("--secret-banque", required=True)
    arguments.add_argument("--compose", required=True, help="the docker-compose command")
    options = arguments.parse_args()

    debut = time.monotonic()
    portail = Portail(options.web)
    banque = BanqueSandbox("", secret=options.secret_banque)
    banque.url = options.banque.rstrip("/")

    verifier_sante_et_statiques(portail)
    connexion_franceconnect(portail, options.franceconnect)
    page_detenu = ajouter_permis(portail)
    reference = virer(portail, page_detenu, banque)
    attendre_credit(portail)
    releve_pdf(portail, reference)
    verifier_journaux(shlex.split(options.compose))
    etape(f"parcours complet en {time.monotonic() - debut:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
