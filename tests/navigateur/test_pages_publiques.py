"""The pages reached without logging in, on a desktop screen and on a 360 px phone
screen: the footer's pages, the contact form and its errors, and the page shown when
the relative cancels on FranceConnect. axe-core, layout and screenshots as in
test_parcours_proche.py."""

import re

import pytest
from playwright.sync_api import expect

from tests.navigateur.outils import BUREAU, MOBILE, Etapes

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("profil", [BUREAU, MOBILE])]

PAGES_DU_PIED = [
    ("Mentions légales", "Mentions légales", "20-mentions-legales"),
    ("Données personnelles", "Données personnelles", "21-donnees-personnelles"),
    ("Gestion des cookies", "Gestion des cookies", "22-gestion-des-cookies"),
    ("Accessibilité : non conforme", "Déclaration d'accessibilité", "23-accessibilite"),
    ("Plan du site", "Plan du site", "24-plan-du-site"),
]


@pytest.fixture
def etapes(page, profil):
    return Etapes(page, profil)


def test_pages_du_pied_de_page(page, etapes):
    for lien, titre, nom in PAGES_DU_PIED:
        page.goto("/")
        page.get_by_role("contentinfo").get_by_role("link", name=lien).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(titre)
        expect(page).to_have_title(f"{titre} — Pécule · Portail des proches")
        etapes.verifier(nom)


def test_contact_sans_connexion_erreurs_puis_envoi(page, etapes):
    page.goto("/")
    etapes.menu("Contact")
    envoyer = page.get_by_role("button", name="Envoyer le message")
    page.get_by_label("Adresse électronique").fill("pas-une-adresse")
    envoyer.click()
    expect(page).to_have_title("Erreur : Contact — Pécule · Portail des proches")
    courriel = page.get_by_label("Adresse électronique")
    expect(courriel).to_have_attribute("aria-invalid", "true")
    expect(courriel).to_have_accessible_description(
        "Saisissez une adresse électronique valide, par exemple nom@domaine.fr."
    )
    expect(page.get_by_label("Sujet")).to_have_accessible_description(
        "Indiquez le sujet de votre message."
    )
    etapes.verifier("13-contact-erreurs", envoyer)

    courriel.fill("marie@example.fr")
    page.get_by_label("Sujet").fill("Connexion")
    page.get_by_label("Message").fill("Je n'arrive pas à me connecter.")
    envoyer.click()
    expect(page.get_by_text("Votre message a bien été envoyé.")).to_be_visible()
    expect(page).to_have_title("Contact — Pécule · Portail des proches")


def test_annulation_sur_franceconnect(page, etapes, portail):
    # The portal answers the cancelled login with a 400 status, on purpose.
    page.journal.attendre(r"status of 400 \(Bad Request\)")
    page.goto("/")
    page.get_by_role("button", name="S’identifier avec FranceConnect").click()
    page.get_by_role("button", name="Annuler").click()
    expect(page).to_have_url(re.compile(re.escape(f"{portail.url}/oidc/callback/?")))
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion impossible")
    expect(page.get_by_text("Vous avez annulé la connexion avec FranceConnect.")).to_be_visible()
    etapes.verifier(
        "14-connexion-annulee", page.get_by_role("button", name="S’identifier avec FranceConnect")
    )
