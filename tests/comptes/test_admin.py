"""Staff accounts in the admin, a relative's identity read-only, brute-force protection."""

import pytest
from django.test import Client

from comptes.models import Utilisateur
from tests.factories import UtilisateurFactory

pytestmark = pytest.mark.django_db


def test_identite_franceconnect_en_lecture_seule(client):
    admin = Utilisateur.objects.create_superuser(
        "admin", "admin@example.fr", "mot-de-passe-tres-long"
    )
    proche = Utilisateur.objects.create(username="fc-x", fc_sub="sub-x", fc_family_name="DUBOIS")
    client.force_login(admin)
    page = client.get(f"/admin/comptes/utilisateur/{proche.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Identité FranceConnect" in html and "DUBOIS" in html
    assert 'name="fc_family_name"' not in html and 'name="is_staff"' not in html
    assert client.get("/admin/comptes/utilisateur/?type=proche").context["cl"].result_count == 1


def test_un_regisseur_ne_gere_pas_les_comptes(client):
    regisseur = UtilisateurFactory()
    client.force_login(regisseur)
    assert client.get("/admin/comptes/utilisateur/").status_code == 403


def test_connexion_admin_bloquee_apres_cinq_echecs(settings):
    settings.AXES_FAILURE_LIMIT = 5
    UtilisateurFactory(username="regisseur.test")
    navigateur = Client()
    codes = [
        navigateur.post(
            "/admin/login/",
            {"username": "regisseur.test", "password": "mauvais", "next": "/admin/"},
        ).status_code
        for _ in range(5)
    ]
    assert codes == [200, 200, 200, 200, 429]  # the fifth failure locks
    # Even the right password is refused now.
    bloque = navigateur.post(
        "/admin/login/",
        {"username": "regisseur.test", "password": "mot-de-passe-de-test-123", "next": "/admin/"},
    )
    assert bloque.status_code == 429
    assert "_auth_user_id" not in navigateur.session
    # Another account from the same address is not locked by these failures.
    UtilisateurFactory(username="chef.test")
    autre = navigateur.post(
        "/admin/login/",
        {"username": "chef.test", "password": "mot-de-passe-de-test-123", "next": "/admin/"},
    )
    assert autre.status_code == 302
