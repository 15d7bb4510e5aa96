"""The client's address behind the reverse proxy, through a real gunicorn process started
with the portal's gunicorn.conf.py (issue 11, item 5).

gunicorn's --forwarded-allow-ips alone never changes REMOTE_ADDR: every relative came as
the proxy's 127.0.0.1, the per-address limit of « Ajouter un permis de visite » became one
national bucket and the attempt records kept only the proxy's address. One setting,
PECULE_PROXYS_DE_CONFIANCE, now names the proxies for gunicorn and for
portail.middleware.AdresseClientMiddleware.

Here the test process plays the reverse proxy: it connects from 127.0.0.1 and sends
X-Forwarded-For as nginx would (the client's address appended on the right)."""

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests
from django.db import connection
from django.test import Client
from django.utils import timezone

from comptes.models import Utilisateur
from permis.models import MotifTentative, TentativeEnregistrement
from permis.services import LIMITE_ECHECS_PAR_ADRESSE
from tests.celery_worker import url_base_de_donnees
from tests.factories import EtablissementFactory

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

RACINE = Path(__file__).resolve().parents[2]
AJOUTER = "/espace/permis/ajouter/"


def _port_libre() -> int:
    with socket.socket() as prise:
        prise.bind(("127.0.0.1", 0))
        return prise.getsockname()[1]


class Gunicorn:
    def __init__(self, proxys: str):
        self.port = _port_libre()
        self.url = f"http://127.0.0.1:{self.port}"
        self.journal = tempfile.TemporaryFile()  # noqa: SIM115 - closed by arreter()
        env = {
            **os.environ,
            "DATABASE_URL": url_base_de_donnees(connection.settings_dict),
            "PECULE_GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "PECULE_GUNICORN_WORKERS": "1",
            "PECULE_PROXYS_DE_CONFIANCE": proxys,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "PECULE_JOURNAUX": "texte",
        }
        self.processus = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "portail.wsgi"],
            cwd=RACINE,
            env=env,
            stdout=self.journal,
            stderr=subprocess.STDOUT,
        )
        fin = time.monotonic() + 30
        while time.monotonic() < fin:
            assert self.processus.poll() is None, self.sortie()
            try:
                if requests.get(f"{self.url}/plan-du-site/", timeout=2).status_code < 500:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        self.arreter()
        raise AssertionError(f"gunicorn did not answer within 30 s:\n{self.sortie()}")

    def sortie(self) -> str:
        self.journal.seek(0)
        return self.journal.read().decode(errors="replace")[-5000:]

    def arreter(self):
        self.processus.terminate()
        try:
            self.processus.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.processus.kill()
            self.processus.wait(timeout=10)
        self.journal.close()


@pytest.fixture
def situation(transactional_db):
    etablissement = EtablissementFactory(code="MA-PROXY", nom="Maison d'arrêt du Proxy")
    return {"etablissement": etablissement}


def _proche(nom: str) -> Utilisateur:
    return Utilisateur.objects.create(
        username=f"fc-{nom}", fc_sub=f"sub-{nom}", fc_family_name=nom, fc_given_name="Alex"
    )


def _ajouter_permis(serveur: Gunicorn, proche: Utilisateur, etablissement, entetes: dict):
    """« Ajouter un permis de visite » with a permit number that does not exist."""
    client = Client()
    client.force_login(proche)
    navigateur = requests.Session()
    navigateur.cookies.set("sessionid", client.cookies["sessionid"].value)
    page = navigateur.get(f"{serveur.url}{AJOUTER}", headers=entetes, timeout=10)
    assert page.status_code == 200, serveur.sortie()
    jeton = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    reponse = navigateur.post(
        f"{serveur.url}{AJOUTER}",
        data={
            "csrfmiddlewaretoken": jeton,
            "numero": "PV-INEXISTANT",
            "etablissement": etablissement.pk,
            "numero_ecrou": "999999",
        },
        headers=entetes,
        timeout=10,
    )
    assert reponse.status_code == 200, serveur.sortie()
    return TentativeEnregistrement.objects.filter(proche=proche).latest("quand")


@pytest.fixture
def derriere_le_proxy():
    serveur = Gunicorn(proxys="127.0.0.1")
    yield serveur
    serveur.arreter()


def test_l_adresse_du_proche_vient_du_proxy_de_confiance(derriere_le_proxy, situation):
    etablissement = situation["etablissement"]
    tentative = _ajouter_permis(
        derriere_le_proxy,
        _proche("A"),
        etablissement,
        {"X-Forwarded-For": "198.51.100.23"},
    )
    assert tentative.adresse_ip == "198.51.100.23"
    assert tentative.cle_adresse == "198.51.100.23"

    # What the client wrote itself is on the left, the proxy appends the real address on
    # the right: the right-most untrusted address wins.
    tentative = _ajouter_permis(
        derriere_le_proxy,
        _proche("B"),
        etablissement,
        {"X-Forwarded-For": "6.6.6.6, 203.0.113.9"},
    )
    assert tentative.adresse_ip == "203.0.113.9"


def test_la_limite_par_adresse_ne_devient_pas_nationale(derriere_le_proxy, situation):
    etablissement = situation["etablissement"]
    occupee = "192.0.2.50"
    maintenant = timezone.now()
    TentativeEnregistrement.objects.bulk_create(
        TentativeEnregistrement(
            proche=_proche(f"essai{n}"),
            adresse_ip=occupee,
            cle_adresse=occupee,
            quand=maintenant,
            succes=False,
            motif=MotifTentative.PERMIS_INTROUVABLE,
        )
        for n in range(LIMITE_ECHECS_PAR_ADRESSE)
    )
    bloquee = _ajouter_permis(
        derriere_le_proxy, _proche("C"), etablissement, {"X-Forwarded-For": occupee}
    )
    assert bloquee.motif == MotifTentative.TROP_DE_TENTATIVES
    # Another relative, elsewhere in France, behind the same proxy: not limited.
    libre = _ajouter_permis(
        derriere_le_proxy, _proche("D"), etablissement, {"X-Forwarded-For": "198.51.100.77"}
    )
    assert libre.motif == MotifTentative.PERMIS_INTROUVABLE


def test_un_pair_qui_n_est_pas_un_proxy_de_confiance_n_est_pas_cru(situation):
    serveur = Gunicorn(proxys="192.0.2.1")
    try:
        tentative = _ajouter_permis(
            serveur, _proche("E"), situation["etablissement"], {"X-Forwarded-For": "6.6.6.6"}
        )
    finally:
        serveur.arreter()
    assert tentative.adresse_ip == "127.0.0.1"
