"""Every anonymous write is limited per client address (issue 11 item 6, the rest of its
class): the back-office's login form (django-axes writes a record per failure) and the
start of a FranceConnect login (a session row each). Expired sessions are deleted."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from comptes.urls import CONNEXIONS_FRANCECONNECT_PAR_MINUTE
from portail.tasks import supprimer_sessions_expirees
from portail.urls import CONNEXIONS_ADMIN_PAR_5_MINUTES

pytestmark = pytest.mark.django_db

INSTANT = datetime.datetime(2026, 7, 1, 8, 0, 1, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _hachage_rapide(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_connexions_admin_limitees_par_adresse(time_machine):
    """One address trying a new username each time wrote one failure record per try."""
    time_machine.move_to(INSTANT, tick=False)
    client = Client()
    codes = [
        client.post("/admin/login/", {"username": f"inconnu{n}", "password": "x"}).status_code
        for n in range(100)
    ]
    assert codes == [200] * CONNEXIONS_ADMIN_PAR_5_MINUTES + [429] * (
        100 - CONNEXIONS_ADMIN_PAR_5_MINUTES
    )
    assert AccessAttempt.objects.count() == CONNEXIONS_ADMIN_PAR_5_MINUTES
    assert client.get("/admin/login/").status_code == 200  # the page itself stays open
    autre = Client(REMOTE_ADDR="192.0.2.5")
    assert autre.post("/admin/login/", {"username": "a", "password": "x"}).status_code == 200
    time_machine.shift(datetime.timedelta(minutes=5))
    assert client.post("/admin/login/", {"username": "b", "password": "x"}).status_code == 200


def test_connexion_admin_trop_volumineuse_refusee_413():
    reponse = Client().post("/admin/login/", {"username": "a" * 50_000, "password": "x"})
    assert reponse.status_code == 413
    assert AccessAttempt.objects.count() == 0


def test_debuts_de_connexion_franceconnect_limites_par_adresse(time_machine):
    time_machine.move_to(INSTANT, tick=False)
    codes = [Client().get("/oidc/authenticate/").status_code for _ in range(100)]
    assert codes == [302] * CONNEXIONS_FRANCECONNECT_PAR_MINUTE + [429] * (
        100 - CONNEXIONS_FRANCECONNECT_PAR_MINUTE
    )
    assert Session.objects.count() == CONNEXIONS_FRANCECONNECT_PAR_MINUTE


def test_sessions_expirees_supprimees(time_machine):
    time_machine.move_to(INSTANT, tick=False)
    Client().get("/oidc/authenticate/")
    Client().get("/oidc/authenticate/")
    assert supprimer_sessions_expirees() == 0
    time_machine.shift(datetime.timedelta(weeks=3))
    assert supprimer_sessions_expirees() == 2
    assert not Session.objects.filter(expire_date__lt=timezone.now()).exists()
