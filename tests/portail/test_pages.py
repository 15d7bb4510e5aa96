"""Site pages, the contact form and the security headers."""

import pytest
from django.test import Client, override_settings

from comptes.models import Utilisateur
from portail.models import MessageContact, StatutMessage

pytestmark = pytest.mark.django_db

PAGES = [
    (
        "/",
        "Le portail des services de l'administration pénitentiaire pour les proches des personnes détenues",
    ),
    ("/mentions-legales/", "Mentions légales"),
    ("/donnees-personnelles/", "Données personnelles"),
    ("/gestion-des-cookies/", "Gestion des cookies"),
    ("/accessibilite/", "Déclaration d'accessibilité"),
    ("/plan-du-site/", "Plan du site"),
    ("/contact/", "Contact"),
]


@pytest.mark.parametrize(("url", "titre"), PAGES)
def test_pages_publiques(client, url, titre):
    reponse = client.get(url)
    assert reponse.status_code == 200
    html = reponse.content.decode()
    assert titre in html.replace("&#x27;", "'")
    assert 'lang="fr"' in html
    # Skip links and the footer links every page must carry.
    assert 'href="#contenu"' in html and 'id="contenu"' in html
    for lien in (
        "/mentions-legales/",
        "/donnees-personnelles/",
        "/gestion-des-cookies/",
        "/accessibilite/",
        "/plan-du-site/",
    ):
        assert f'href="{lien}"' in html
    assert "République<br>française" in html


def test_accueil_bouton_franceconnect(client):
    html = client.get("/").content.decode()
    assert 'action="/oidc/authenticate/"' in html
    assert "Qu’est-ce que FranceConnect ?" in html
    assert (
        "FranceConnect est la solution proposée par l’État pour sécuriser et simplifier la connexion à vos services en ligne"
        in html
    )
    # The FranceConnect button comes before any other way in.
    assert html.index("fr-connect") < html.index('id="pied-de-page"')


def test_en_tetes_de_securite(client):
    reponse = client.get("/")
    csp = reponse.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert reponse.headers["X-Frame-Options"] == "DENY"
    assert reponse.headers["Referrer-Policy"] == "same-origin"
    assert reponse.headers["X-Content-Type-Options"] == "nosniff"


def test_cookies_de_session_et_hsts_en_production(settings):
    # Production settings (PECULE_ENV=production) turn these on; check the running values
    # of the middleware when they are set.
    with override_settings(
        SECURE_HSTS_SECONDS=31536000, SECURE_SSL_REDIRECT=False, SESSION_COOKIE_SECURE=True
    ):
        reponse = Client().get("/", secure=True)
        assert reponse.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_contact_anonyme(client):
    reponse = client.post(
        "/contact/",
        {
            "email": "marie@example.fr",
            "sujet": "Connexion",
            "message": "Je n'arrive pas à me connecter.",
        },
    )
    assert reponse.status_code == 302
    message = MessageContact.objects.get()
    assert message.proche is None and message.statut == StatutMessage.NOUVEAU
    suivante = client.get("/contact/")
    assert "Votre message a bien été envoyé" in suivante.content.decode().replace("&#x27;", "'")


def test_contact_erreurs_en_francais_et_rien_d_enregistre(client):
    reponse = client.post("/contact/", {"email": "pas-une-adresse", "sujet": "", "message": ""})
    assert reponse.status_code == 200
    html = reponse.content.decode().replace("&#x27;", "'")
    assert "Saisissez une adresse électronique valide" in html
    assert "Indiquez le sujet de votre message." in html
    assert 'aria-invalid="true"' in html
    assert MessageContact.objects.count() == 0


def test_contact_du_proche_rattache_a_son_compte_et_visible_de_lui_seul(client):
    proche = Utilisateur.objects.create(username="p1", fc_sub="sub-1", email="p1@example.fr")
    autre = Utilisateur.objects.create(username="p2", fc_sub="sub-2", email="p2@example.fr")
    client.force_login(proche)
    client.post(
        "/contact/",
        {
            "email": "p1@example.fr",
            "sujet": "Virement",
            "message": "Question",
            "reference_virement": "ab12cd",
        },
    )
    message = MessageContact.objects.get()
    assert message.proche == proche and message.reference_virement == "AB12CD"
    assert "Virement" in client.get("/contact/").content.decode()
    client.force_login(autre)
    assert "Virement" not in client.get("/contact/").content.decode()


def test_contact_demande_un_post_avec_csrf():
    client = Client(enforce_csrf_checks=True)
    reponse = client.post("/contact/", {"email": "a@b.fr", "sujet": "s", "message": "m"})
    assert reponse.status_code == 403
    assert MessageContact.objects.count() == 0


def test_messages_de_contact_anonymes_limites_par_adresse(client):
    """Issue 11 item 6: 200 anonymous messages were all stored. Now an address sends
    MESSAGES_CONTACT_PAR_HEURE per hour; the next ones get the French 429 page and nothing
    is stored; another address is not affected, and the next hour the first one may again."""
    import time_machine

    from portail.views import MESSAGES_CONTACT_PAR_HEURE

    donnees = {"email": "a@example.fr", "sujet": "Sujet", "message": "Bonjour."}
    with time_machine.travel("2026-07-01 10:00:00+02:00", tick=False) as horloge:
        codes = [client.post("/contact/", donnees).status_code for _ in range(200)]
        assert codes == [302] * MESSAGES_CONTACT_PAR_HEURE + [429] * (
            200 - MESSAGES_CONTACT_PAR_HEURE
        )
        assert MessageContact.objects.count() == MESSAGES_CONTACT_PAR_HEURE
        refus = client.post("/contact/", donnees)
        assert "Vous avez fait trop de demandes" in refus.content.decode()
        assert client.get("/contact/").status_code == 200  # reading stays open
        autre = client.post("/contact/", donnees, REMOTE_ADDR="192.0.2.7")
        assert autre.status_code == 302
        horloge.shift(3600)
        assert client.post("/contact/", donnees).status_code == 302
    assert MessageContact.objects.count() == MESSAGES_CONTACT_PAR_HEURE + 2


def test_message_de_contact_trop_volumineux_refuse_413(client):
    reponse = client.post(
        "/contact/", {"email": "a@example.fr", "sujet": "Sujet", "message": "x" * 100_000}
    )
    assert reponse.status_code == 413
    assert "trop volumineux" in reponse.content.decode()
    assert MessageContact.objects.count() == 0


# --- Error pages and the favicon (French whatever DEBUG says) --------------------------------


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_page_non_trouvee_en_francais(client, settings, debug):
    settings.DEBUG = debug
    for url in ("/cette-page/nexiste-pas/", "/espace/pecule/releves/999/statut/x"):
        reponse = client.get(url)
        assert reponse.status_code == 404
        html = reponse.content.decode().replace("&#x27;", "'")
        assert "<title>Page non trouvée — Pécule · Portail des proches</title>" in html
        assert "Page not found" not in html and "Not Found" not in html
        # (django-csp leaves 404s without a policy when DEBUG is on.)
        assert debug or "Content-Security-Policy" in reponse.headers
    # A JSON 404 stays JSON; a missing slash is still redirected.
    assert client.get("/contact").status_code == 301


def test_page_non_trouvee_d_une_vue_en_mode_debug(client, settings):
    """get_object_or_404 in a view: the French page too, not Django's technical one."""
    settings.DEBUG = True
    proche = Utilisateur.objects.create(username="fc-x", fc_sub="sub-x")
    client.force_login(proche)
    reponse = client.get("/espace/pecule/999999/")
    assert reponse.status_code == 404
    assert "Page non trouvée" in reponse.content.decode()


def test_formulaire_expire_en_francais():
    client = Client(enforce_csrf_checks=True)
    reponse = client.post("/contact/", {"sujet": "x", "message": "y"})
    assert reponse.status_code == 403
    html = reponse.content.decode().replace("&#x27;", "'")
    assert "Formulaire expiré" in html and "rien n'a été enregistré" in html
    assert "Forbidden" not in html


def test_favicon(client):
    reponse = client.get("/favicon.ico")
    assert reponse.status_code == 302
    assert reponse["Location"].endswith("dsfr/dist/favicon/favicon.ico")
    html = client.get("/").content.decode()
    assert "dsfr/dist/favicon/favicon.svg" in html
