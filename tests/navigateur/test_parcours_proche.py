"""The relative's journey (spec 02-parcours-proche.md) in a real browser, on a desktop
screen and on a 360 px phone screen: FranceConnect login through the stand-in's page,
« Ajouter un permis de visite », « Accueil », « Pécule », « Contact », logout.

Every page reached is checked with axe-core (no serious or critical violation), on a
phone for horizontal scrolling and its main button, and saved as a screenshot under
test-artifacts/captures/<profil>/. The payment itself (the bank) is not played here."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.navigateur.outils import BUREAU, MOBILE, Etapes, se_connecter, texte_sans_espaces

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("profil", [BUREAU, MOBILE])]

ETABLISSEMENT = "Maison d'arrêt de Paris-la-Santé"
SITE = "Pécule · Portail des proches"


@pytest.fixture
def etapes(page, profil):
    return Etapes(page, profil)


@pytest.fixture
def angela(franceconnect):
    return franceconnect.identites["test"]


@pytest.fixture
def angela_avec_permis(angela, permis_angela):
    """Angela's account, with her permit already registered, as after 2b."""
    from comptes.models import Utilisateur
    from permis.models import PermisEnregistre

    claims = angela["claims"]
    proche = Utilisateur.objects.create(username="fc-angela", fc_sub=claims["sub"])
    PermisEnregistre.objects.create(proche=proche, permis=permis_angela)
    return proche


def test_connexion_franceconnect_puis_deconnexion(page, etapes, portail, angela):
    page.goto("/")
    bouton = page.get_by_role("button", name="S’identifier avec FranceConnect")
    expect(page.get_by_role("link", name="Qu’est-ce que FranceConnect ?")).to_have_attribute(
        "target", "_blank"
    )
    etapes.verifier("01-accueil-public", bouton)

    se_connecter(page, portail.url, angela)
    expect(page.get_by_text("Bonjour Angela Claire Louise DUBOIS.")).to_be_visible()
    etapes.verifier(
        "02-espace-accueil-sans-permis", page.get_by_role("link", name="Faire un virement")
    )

    if etapes.mobile:
        page.get_by_role("button", name="Menu").click()
        menu = page.get_by_role("dialog")
        for lien in ("Accueil", "Pécule", "Contact"):
            expect(menu.get_by_role("link", name=lien, exact=True)).to_be_visible()
        expect(menu.get_by_role("button", name="Se déconnecter")).to_be_visible()
        etapes.verifier("02b-menu-mobile", menu.get_by_role("button", name="Fermer"))
        menu.get_by_role("button", name="Fermer").click()
        expect(menu).to_be_hidden()

    etapes.se_deconnecter()
    # Logged out of the portal, then of FranceConnect, which sends the browser back.
    expect(page).to_have_url(re.compile(re.escape(f"{portail.url}/deconnexion/fin/?state=")))
    expect(page.get_by_role("heading", level=1)).to_have_text("Vous êtes déconnecté(e)")
    etapes.verifier("10-deconnexion", page.get_by_role("link", name="Retour à l'accueil"))

    page.goto("/espace/")
    expect(page).to_have_url(f"{portail.url}/")
    expect(
        page.get_by_text("Connectez-vous avec FranceConnect pour accéder à votre espace.")
    ).to_be_visible()
    # The FranceConnect session ended too: the stand-in asks for the password again.
    page.get_by_role("button", name="S’identifier avec FranceConnect").click()
    expect(page.get_by_label("Mot de passe")).to_be_visible()


def test_ajouter_un_permis_refus_puis_accepte(
    page, etapes, portail, angela, permis_angela, permis_d_un_autre
):
    se_connecter(page, portail.url, angela)
    page.get_by_role("link", name="Ajouter un permis de visite").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ajouter un permis de visite")
    bouton = page.get_by_role("button", name="Ajouter le permis")
    etapes.verifier("03-ajouter-un-permis", bouton)

    # Nothing typed: French messages tied to their fields, and the title says so.
    expect(page).to_have_title(f"Ajouter un permis de visite — {SITE}")
    bouton.click()
    expect(page).to_have_title(f"Erreur : Ajouter un permis de visite — {SITE}")
    numero = page.get_by_label("Numéro du permis de visite")
    expect(numero).to_have_attribute("aria-invalid", "true")
    expect(numero).to_have_accessible_description("Indiquez le numéro du permis de visite.")
    expect(page.get_by_role("alert")).to_contain_text(
        "Indiquez le numéro d'écrou de la personne détenue, ou son nom et sa date de naissance."
    )
    etapes.verifier("03b-ajouter-un-permis-erreurs", bouton)

    # Another relative's permit of the same detainee: refused, generic message.
    _remplir_permis(page, "PV-2026-0077", ecrou="204518")
    bouton.click()
    from permis.services import MESSAGE_VERIFICATION_IMPOSSIBLE

    expect(page.get_by_role("alert")).to_have_text(MESSAGE_VERIFICATION_IMPOSSIBLE)
    corps = page.locator("main").inner_text()
    assert "DURAND" not in corps and "MARTIN" not in corps
    etapes.verifier("04-ajouter-un-permis-refuse", bouton)

    # Her own permit, by the detainee's name and birth date this time.
    _remplir_permis(page, "pv-2026-0042", nom="Durand", naissance="03/06/1988")
    bouton.click()
    expect(page).to_have_url(f"{portail.url}/espace/")
    expect(page.get_by_text("Le permis de visite pour Paul DURAND a été ajouté")).to_be_visible()
    carte = page.locator(".fr-card").filter(has=page.get_by_role("heading", name="Paul DURAND"))
    expect(carte).to_contain_text(f"{ETABLISSEMENT} – permis n° PV-2026-0042")
    expect(carte.get_by_text("Permis actif")).to_be_visible()
    expect(carte.get_by_role("link", name="Faire un virement")).to_be_visible()
    parloir = carte.get_by_role("button", name="Prendre un rendez-vous parloir")
    expect(parloir).to_be_disabled()
    expect(parloir).to_have_accessible_description("Service bientôt disponible")
    etapes.verifier("05-espace-accueil-avec-permis", carte.get_by_role("link"))


def _remplir_permis(page, numero, ecrou="", nom="", naissance=""):
    page.get_by_label("Numéro du permis de visite").fill(numero)
    page.get_by_label("Établissement pénitentiaire").select_option(
        label=f"{ETABLISSEMENT} (MA-SANTE)"
    )
    page.get_by_label("Numéro d'écrou de la personne détenue").fill(ecrou)
    page.get_by_label("Nom de la personne détenue").fill(nom)
    page.get_by_label("Date de naissance de la personne détenue").fill(naissance)


def test_faire_un_virement_sans_permis_mene_a_l_onglet_pecule(page, etapes, portail, angela):
    se_connecter(page, portail.url, angela)
    page.get_by_role("link", name="Faire un virement").click()
    expect(page).to_have_url(f"{portail.url}/espace/pecule/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pécule")
    # The « Pécule » tab is the current one (behind « Menu » on a phone).
    expect(page.locator("#navigation-principale [aria-current='page']")).to_have_text("Pécule")
    expect(page.get_by_role("heading", name="Un permis de visite est nécessaire")).to_be_visible()
    ajouter = page.get_by_role("link", name="Ajouter un permis de visite")
    etapes.verifier("06-pecule-sans-permis", ajouter)
    ajouter.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ajouter un permis de visite")


def test_pecule_du_detenu_sans_jamais_le_solde(
    page, etapes, portail, angela, angela_avec_permis, detenu
):
    from regie import services as regie
    from regie.models import CompteNominatif, NatureEcriture

    compte = CompteNominatif.objects.get(detenu=detenu)
    regie.encaisser_recette(
        compte=compte,
        montant=Decimal("1234.56"),
        nature=NatureEcriture.SALAIRE,
        source="test-navigateur:solde",
        motif="Rémunération du travail",
        auteur_systeme="tests",
    )
    compte.refresh_from_db()
    soldes = {
        compte.part_disponible,
        compte.pecule_liberation,
        compte.parties_civiles,
        compte.part_disponible + compte.pecule_liberation + compte.parties_civiles,
    } - {Decimal(0)}
    assert soldes

    se_connecter(page, portail.url, angela)
    page.get_by_role("link", name="Faire un virement").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pécule de Paul DURAND")
    expect(page.get_by_text("Permis actif")).to_be_visible()
    plafonds = page.locator(".fr-callout").filter(has_text="Plafonds fixés par")
    expect(plafonds).to_contain_text("1 000,00 € au plus par virement")
    expect(plafonds).to_contain_text("5 000,00 € au plus par mois pour cette personne détenue")
    expect(page.get_by_role("link", name="Voir l'historique")).to_be_visible()
    alimenter = page.get_by_role("link", name="Alimenter le pécule")
    _aucun_solde(page, soldes)
    etapes.verifier("07-pecule-detenu", alimenter)

    alimenter.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alimenter le pécule")
    expect(page.get_by_label("Montant du virement (en euros)")).to_be_editable()
    expect(page.get_by_text("Le montant peut être plafonné par l'établissement")).to_be_visible()
    _aucun_solde(page, soldes)
    etapes.verifier(
        "08-alimenter-le-pecule", page.get_by_role("button", name="Réaliser le virement")
    )

    etapes.menu("Pécule")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pécule")
    expect(page.get_by_role("link", name=f"Paul DURAND – {ETABLISSEMENT}")).to_be_visible()
    historique = page.get_by_role("link", name="Voir l'historique")
    _aucun_solde(page, soldes)
    etapes.verifier("06b-pecule-avec-permis", historique)

    historique.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Historique des virements")
    expect(page.get_by_text("Aucun virement sur les six derniers mois.")).to_be_visible()
    etapes.verifier("09-historique-vide")


def _aucun_solde(page, soldes):
    from socle.formats import euros

    texte = texte_sans_espaces(page)
    for montant in soldes:
        assert re.sub(r"\s", "", euros(montant)) not in texte, f"solde affiché : {montant}"
        assert str(montant) not in texte


def test_message_de_contact(page, etapes, portail, angela):
    from portail.models import MessageContact

    se_connecter(page, portail.url, angela)
    etapes.menu("Contact")
    expect(page.get_by_role("heading", level=1)).to_have_text("Contact")
    expect(page.get_by_label("Adresse électronique")).to_have_value(angela["claims"]["email"])
    envoyer = page.get_by_role("button", name="Envoyer le message")
    etapes.verifier("11-contact", envoyer)

    page.get_by_label("Sujet").fill("Virement non reçu")
    page.get_by_label("Message").fill(
        "Bonjour, mon virement de la semaine dernière n'apparaît pas."
    )
    envoyer.click()
    expect(page.get_by_text("Votre message a bien été envoyé.")).to_be_visible()
    expect(page.get_by_role("heading", name="Vos derniers messages")).to_be_visible()
    expect(page.get_by_text("Virement non reçu (nouveau)")).to_be_visible()
    etapes.verifier("12-contact-envoye", envoyer)
    message = MessageContact.objects.get()
    assert message.proche.fc_sub == angela["claims"]["sub"]
