"""Issue 13 in a real browser, on a desktop screen and on a 360 px phone screen: every
point the relative, the régisseur and the chef meet, each page checked with axe-core (no
serious or critical violation), on a phone for horizontal scrolling, and saved as a
screenshot under test-artifacts/captures/<profil>/ (3x-, 4x- and 5x- names).

The bank approves at once (tests/navigateur/banque_immediate.py): the bank's own pages
are played against the real sandbox bank in tests/bout_en_bout. Expectations that
depend on the date (the month's allowance of the répartition) are computed from the date
the portal uses, with the rule engine itself."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.navigateur.conftest import creer_permis_de_visite
from tests.navigateur.outils import BUREAU, MOBILE, Etapes, se_connecter, texte_sans_espaces

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("profil", [BUREAU, MOBILE])]

MOT_DE_PASSE_AGENT = "mot-de-passe-de-test-123"


@pytest.fixture
def etapes(page, profil):
    return Etapes(page, profil)


@pytest.fixture
def monde(franceconnect, settings):
    """Centre pénitentiaire de Fresnes (caps 300 € a transfer, 1 000 € a month for a
    detainee, 600 € a month for a sender), Antoine LEFÈVRE, Angela's account and her
    registered permit, a régisseur and a chef."""
    from comptes.models import Utilisateur
    from permis.models import PermisEnregistre
    from regie.roles import CHEF_ETABLISSEMENT, REGISSEUR
    from tests.factories import DetenuFactory, EtablissementFactory, agent

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    etablissement = EtablissementFactory(
        code="FRE",
        nom="Centre pénitentiaire de Fresnes",
        plafond_par_virement=Decimal("300.00"),
        plafond_mensuel_par_detenu=Decimal("1000.00"),
        plafond_mensuel_par_emetteur=Decimal("600.00"),
    )
    detenu = DetenuFactory(
        etablissement=etablissement,
        numero_ecrou="193640",
        nom="LEFÈVRE",
        prenoms="Antoine",
        date_naissance=datetime.date(1979, 1, 25),
    )
    claims = franceconnect.identites["test"]["claims"]
    angela = Utilisateur.objects.create(
        username="fc-angela",
        fc_sub=claims["sub"],
        fc_given_name=claims["given_name"],
        fc_family_name=claims["family_name"],
        fc_birthdate=datetime.date.fromisoformat(claims["birthdate"]),
    )
    permis = creer_permis_de_visite(
        detenu, "PV-FRE-0042", "DUBOIS", "Angela Claire Louise", datetime.date(1962, 8, 24)
    )
    PermisEnregistre.objects.create(proche=angela, permis=permis)
    return {
        "etablissement": etablissement,
        "detenu": detenu,
        "angela": angela,
        "permis": permis,
        "regisseur": agent(REGISSEUR, etablissement, username="regisseur.fresnes"),
        "chef": agent(CHEF_ETABLISSEMENT, etablissement, username="chef.fresnes"),
    }


def _recu_ce_mois(detenu, montant, emetteur, source):
    """A relative's transfer already credited this month (the ledger, as the crediting
    would leave it)."""
    from regie import services as regie
    from regie.models import NatureEcriture

    regie.encaisser_recette(
        compte=detenu.compte,
        montant=Decimal(montant),
        nature=NatureEcriture.SUBSIDE_PROCHE,
        source=source,
        motif="Virement d'un proche",
        auteur_systeme="tests",
        emetteur=emetteur,
    )


def _montant(texte: str) -> str:
    return re.sub(r"\s", "", texte)


def test_virement_restes_repartition_confirmation_historique(
    page, etapes, portail, franceconnect, monde, banque_immediate
):
    """Items 3, 9, 1, 13 (« Je donne mon avis »), 4 and 8 (« d'Antoine »)."""
    from pecule.models import Virement
    from pecule.services import emetteur_de
    from regie.repartition import Situation, repartir
    from socle.formats import euros

    detenu, angela = monde["detenu"], monde["angela"]
    # Angela sent 150 € this month; another relative, 100 € (never shown to her).
    _recu_ce_mois(detenu, "150.00", emetteur_de(angela), "test:angela")
    _recu_ce_mois(detenu, "100.00", "proche:999999", "test:martin")

    se_connecter(page, portail.url, franceconnect.identites["test"])
    carte = page.locator(".fr-card").filter(has=page.get_by_role("heading", name="Antoine"))
    carte.get_by_role("link", name="Faire un virement").click()

    # 3. The caps and what is still possible, before typing anything.
    expect(page.get_by_role("heading", level=1)).to_have_text("Pécule d'Antoine LEFÈVRE")
    plafonds = page.locator("#plafonds")
    expect(plafonds.get_by_role("heading")).to_have_text("Plafonds fixés par l'établissement")
    expect(plafonds.locator("[data-reste=detenu]")).to_have_text(re.compile(r"750,00\s€"))
    expect(plafonds.locator("[data-reste=emetteur]")).to_have_text(re.compile(r"450,00\s€"))
    expect(plafonds.locator("#plafonds-maximum")).to_contain_text(
        re.compile(r"vous pouvez envoyer jusqu'à 300,00\s€")
    )
    texte = texte_sans_espaces(page)
    assert "100,00€" not in texte and "999999" not in texte  # nothing of the other sender
    etapes.verifier("30-pecule-detenu-restes", page.get_by_role("link", name="Alimenter le pécule"))

    # 9. The estimate under the amount, as the relative types (the one rule engine, on
    # Angela's own 150 € of the month only).
    page.get_by_role("link", name="Alimenter le pécule").click()
    expect(page.get_by_text("Virement à destination d'Antoine LEFÈVRE")).to_be_visible()
    page.get_by_label("Montant du virement (en euros)").fill("250")
    apercu = page.locator("#repartition")
    expect(apercu.get_by_role("heading")).to_contain_text(re.compile(r"250,00\s€"))
    jour = timezone.localdate()
    attendu = repartir(
        Decimal("250.00"),
        Situation(
            cumul_mois=Decimal("150.00"),
            mois=jour.month,
            sans_pecule=False,
            solde_parties_civiles=Decimal("0.00"),
            plafond_parties_civiles=False,
        ),
    )
    for partie in ("part_disponible", "pecule_liberation", "parties_civiles"):
        expect(apercu.locator(f"[data-part={partie}]")).to_have_text(
            re.compile(re.escape(euros(getattr(attendu, partie))).replace("\u202f", r"\s"))
        )
    expect(apercu).to_contain_text("Ceci est une estimation")
    expect(apercu).to_contain_text("peut différer")
    assert "100,00€" not in texte_sans_espaces(page)
    realiser = page.get_by_role("button", name="Réaliser le virement")
    etapes.verifier("31-alimenter-repartition-estimee", realiser)

    # 1. Back from the bank: what the bank said, what « Confirmer » does.
    realiser.click()
    virement = Virement.objects.get(proche=angela)
    expect(page).to_have_url(re.compile(r"/retour/$"))
    expect(page.get_by_role("heading", name="Votre banque a validé le virement")).to_be_visible()
    expect(page.get_by_text("Dernière étape : confirmer")).to_be_visible()
    confirmer = page.get_by_role("button", name="Confirmer")
    expect(confirmer).to_have_accessible_description(re.compile("Aucune autre somme"))
    expect(page.locator("[data-etat]")).to_have_count(0)  # the régie's state after
    etapes.verifier("32-retour-de-la-banque", confirmer)

    confirmer.click()
    adresse = f"{portail.url}/espace/pecule/virement/{virement.cle_idempotence}/"
    expect(page).to_have_url(adresse)  # POST, then its own address
    statut = page.get_by_role("status")
    expect(statut).to_contain_text("Votre virement a bien été confirmé")
    expect(statut).to_contain_text("à destination d'Antoine LEFÈVRE")
    avis = page.get_by_role("link", name="Je donne mon avis")
    expect(avis).to_have_attribute("href", re.compile(r"^https://jedonnemonavis\."))
    expect(avis).to_have_attribute("target", "_blank")
    etapes.verifier("33-confirmation", page.get_by_role("link", name="Voir l'historique"))
    # Reopened (reload, bookmark of /confirmer/, new tab): the confirmation, never a 405.
    page.reload()
    expect(page.get_by_role("status")).to_contain_text("Votre virement a bien été confirmé")
    page.goto(f"{adresse}confirmer/")
    expect(page).to_have_url(adresse)
    autre = page.context.new_page()
    autre.goto(f"{adresse}retour/")
    expect(autre).to_have_url(adresse)
    autre.close()

    # 4. The history on the screen's width: amount and state without scrolling sideways.
    page.get_by_role("link", name="Voir l'historique").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Historique des virements")
    if etapes.mobile:
        expect(page.locator("#historique-tableau")).to_be_hidden()
        bloc = page.locator(f"#historique-liste [data-reference='{virement.reference}']")
    else:
        expect(page.locator("#historique-liste")).to_be_hidden()
        bloc = page.get_by_role("row").filter(has_text=virement.reference)
    expect(bloc).to_contain_text(re.compile(r"250,00\s€"))
    etat = bloc.locator("[data-etat]")
    expect(etat).to_have_text("Crédité sur le compte nominatif")
    expect(etat).to_be_in_viewport()
    etapes.verifier("34-historique", page.get_by_role("button", name="Télécharger en PDF"))

    # 5. « Télécharger en PDF »: ready at once, the message says so.
    page.get_by_role("button", name="Télécharger en PDF").click()
    expect(page.get_by_text("Votre relevé est prêt : vous pouvez le télécharger.")).to_be_visible()
    expect(page.get_by_role("link", name="Télécharger le relevé")).to_be_visible()
    expect(page.get_by_text("en préparation")).to_have_count(0)
    etapes.verifier("35-releves-pdf", page.get_by_role("link", name="Télécharger le relevé"))


def test_permis_suspendu_ou_expire_sur_l_accueil(page, etapes, portail, franceconnect, monde):
    """Item 6: the state and the reason on the card, no active « Faire un virement »."""
    from permis.models import PermisEnregistre
    from permis.services import suspendre_permis
    from tests.factories import DetenuFactory

    autre = DetenuFactory(etablissement=monde["etablissement"], nom="ROUSSEL", prenoms="Damien")
    suspendu = creer_permis_de_visite(
        autre, "PV-FRE-0009", "DUBOIS", "Angela Claire Louise", datetime.date(1962, 8, 24)
    )
    PermisEnregistre.objects.create(proche=monde["angela"], permis=suspendu)
    suspendre_permis(permis=suspendu, motif="Incident au parloir (interne)")

    se_connecter(page, portail.url, franceconnect.identites["test"])
    carte = page.locator(".fr-card").filter(has=page.get_by_role("heading", name="Damien"))
    expect(carte.get_by_text("Suspendu", exact=True)).to_be_visible()
    expect(carte).to_contain_text("Ce permis de visite est suspendu par l'établissement")
    bouton = carte.get_by_role("button", name="Faire un virement")
    expect(bouton).to_be_disabled()
    expect(bouton).to_have_accessible_description(re.compile("suspendu par l'établissement"))
    expect(carte.get_by_role("link", name="Faire un virement")).to_have_count(0)
    expect(carte).not_to_contain_text("Incident au parloir")  # the internal reason
    valide = page.locator(".fr-card").filter(has=page.get_by_role("heading", name="Antoine"))
    etapes.verifier("36-accueil-permis-suspendu", valide.get_by_role("link"))


def test_depense_d422_du_proche(
    page, etapes, portail, franceconnect, monde, banque_immediate, profil
):
    """Item 10, the relative's side: the authorisation naming her, the exact sum outside
    the caps, the mark in the history."""
    from pecule.services import emetteur_de
    from regie import services as regie
    from regie.models import ChoixReliquat

    autorisation = regie.demander_d422(
        detenu=monde["detenu"],
        montant=Decimal("450.00"),
        objet="Ordinateur portable pour une formation à distance",
        emetteur_attendu="Angela DUBOIS (mère)",
        emetteur_ref=emetteur_de(monde["angela"]),
        reliquat=ChoixReliquat.REPARTIR,
        date_demande=timezone.localdate(),
        auteur=monde["regisseur"],
    )
    regie.decider_d422(
        autorisation=autorisation, accorder=True, motif="Formation", auteur=monde["chef"]
    )

    se_connecter(page, portail.url, franceconnect.identites["test"])
    page.goto("/espace/pecule/")
    page.get_by_role("link", name=re.compile("Antoine LEFÈVRE")).click()
    depense = page.locator("#depense-d422")
    expect(depense).to_contain_text("Ordinateur portable pour une formation à distance")
    expect(depense.locator("[data-reste=d422]")).to_have_text(re.compile(r"450,00\s€"))
    envoyer = depense.get_by_role("link", name=re.compile(r"Envoyer les 450,00\s€ autorisés"))
    etapes.verifier("37-pecule-depense-d422", envoyer)

    envoyer.click()
    champ = page.get_by_label("Montant du virement (en euros)")
    expect(champ).to_have_value("450,00")
    apercu = page.locator("#repartition")
    expect(apercu.locator("[data-part=part_disponible]")).to_have_text(re.compile(r"450,00\s€"))
    expect(apercu).to_contain_text("réservés à la dépense autorisée (D.422)")
    expect(page.locator("#plafonds")).to_contain_text("n'est pas soumise à ces plafonds")
    realiser = page.get_by_role("button", name="Réaliser le virement")
    etapes.verifier("38-alimenter-depense-d422", realiser)

    realiser.click()
    page.get_by_role("button", name="Confirmer").click()
    expect(page.get_by_role("status")).to_contain_text("Votre virement a bien été confirmé")
    page.get_by_role("link", name="Voir l'historique").click()
    liste = "#historique-liste" if profil == MOBILE else "#historique-tableau"
    expect(page.locator(liste).get_by_text("Dépense autorisée (D.422)")).to_be_visible()
    etapes.verifier("39-historique-depense-d422")


def test_virement_retourne_dans_l_historique(page, etapes, portail, franceconnect, monde, profil):
    """Item 7: a returned transfer says why (the régisseur's reason) and the day the
    régie's bank sent the money back (its payment order executed), on both screens."""
    from pecule.models import StatutRegie
    from pecule.services import retourner_virement
    from regie import services as regie
    from tests.factories import IBAN_PROCHE

    angela, permis = monde["angela"], monde["permis"]
    assert _virement_execute(angela, permis, "300.00", "r-1").statut_regie == StatutRegie.CREDITE
    assert _virement_execute(angela, permis, "250.00", "r-2").statut_regie == StatutRegie.CREDITE
    retenu = _virement_execute(angela, permis, "120.00", "r-3")  # above her 600 € a month
    assert retenu.statut_regie == StatutRegie.A_TRAITER
    retenu = retourner_virement(
        virement=retenu,
        auteur=monde["regisseur"],
        motif="Plafond mensuel de l'établissement atteint",
        iban=IBAN_PROCHE,
        titulaire="Angela DUBOIS",
    )
    regie.valider_ordre(ordre=retenu.ordre_retour, auteur=monde["chef"])
    remise = regie.constituer_remise(
        etablissement=monde["etablissement"], auteur=monde["regisseur"]
    )
    regie.transmettre_remise(remise=remise, auteur=monde["regisseur"])
    jour = timezone.localdate()
    regie.constater_execution(
        ordre=retenu.ordre_retour, date_execution=jour, auteur_systeme="relevé bancaire"
    )

    se_connecter(page, portail.url, franceconnect.identites["test"])
    page.goto("/espace/pecule/historique/")
    liste = "#historique-liste" if profil == MOBILE else "#historique-tableau"
    ligne = page.locator(liste).locator(".pecule-retour")
    expect(ligne).to_contain_text("Motif du retour : Plafond mensuel de l'établissement atteint")
    expect(ligne).to_contain_text(f"Renvoyé sur votre compte bancaire le {jour:%d/%m/%Y}.")
    etapes.verifier("40-historique-virement-retourne")


def test_pages_d_erreur_et_icone(page, etapes, portail, settings):
    """Item 8: the page not found in French even with DEBUG on, and the icon."""
    settings.DEBUG = True
    page.journal.attendre("404")
    reponse = page.goto("/cette-page-n-existe-pas/")
    assert reponse.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page non trouvée")
    expect(page).to_have_title(re.compile("^Page non trouvée — "))
    assert "Page not found" not in page.content()
    etapes.verifier("40-page-non-trouvee", page.get_by_role("link", name="Page d'accueil"))
    assert page.request.get("/favicon.ico").status == 200


def test_declaration_d_accessibilite(page, etapes, portail):
    """Item 13: the statement, from the footer."""
    page.goto("/")
    page.locator("#pied-de-page").get_by_role("link", name="Accessibilité : non conforme").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Déclaration d'accessibilité")
    for titre in (
        "État de conformité",
        "Contenus non accessibles",
        "Non-conformités",
        "Dérogations pour charge disproportionnée",
        "Contenus non soumis à l'obligation d'accessibilité",
        "Établissement de cette déclaration d'accessibilité",
        "Retour d'information et contact",
        "Voies de recours",
    ):
        expect(page.get_by_role("heading", name=titre, exact=True)).to_be_visible()
    expect(page.get_by_text("RGAA), version 4.1.2")).to_be_visible()
    etapes.verifier("41-declaration-accessibilite")


# --- The back-office ------------------------------------------------------------------------


def _virement_execute(proche, permis, montant: str, cle: str):
    """A transfer the bank executed, as the provider's notification leaves it: credited,
    or held « à traiter »."""
    from pecule.fournisseurs.base import EtatPaiement
    from pecule.models import StatutPaiement, Virement
    from pecule.services import appliquer_etat

    virement = Virement.objects.create(
        cle_idempotence=cle,
        proche=proche,
        permis=permis,
        detenu=permis.detenu,
        etablissement=permis.etablissement,
        montant=Decimal(montant),
        fournisseur="memoire",
    )
    return appliquer_etat(
        virement=virement,
        etat=EtatPaiement(statut=StatutPaiement.EXECUTE, statut_brut="EXECUTED"),
        origine="notification",
    )


def _connexion_agent(page, agent):
    page.goto("/admin/login/")
    page.locator("#id_username").fill(agent.username)
    page.locator("#id_password").fill(MOT_DE_PASSE_AGENT)
    page.locator("input[type=submit]").click()
    expect(page.locator("#a-faire")).to_be_visible()


def test_back_office_virement_retenu_et_d422(navigateur, page, etapes, portail, monde, profil):
    """Items 11, 12 and 10 (the staff's picker): « À faire », the held transfer by the
    sender's name, the cap it passes over and the confirmation, the steps in French, the
    D.422 request naming a relative from the list, the chef's page."""
    from comptes.models import Utilisateur
    from pecule.models import StatutRegie
    from permis.models import PermisEnregistre
    from regie.models import AutorisationD422

    martin = Utilisateur.objects.create(
        username="fc-martin",
        fc_sub="sub-martin",
        fc_given_name="Jean-Pierre",
        fc_family_name="MARTIN",
        fc_birthdate=datetime.date(1975, 3, 14),
    )
    permis = creer_permis_de_visite(
        monde["detenu"], "PV-FRE-0002", "MARTIN", "Jean-Pierre", datetime.date(1975, 3, 14)
    )
    PermisEnregistre.objects.create(proche=martin, permis=permis)
    assert _virement_execute(martin, permis, "300.00", "t-1").statut_regie == StatutRegie.CREDITE
    assert _virement_execute(martin, permis, "250.00", "t-2").statut_regie == StatutRegie.CREDITE
    retenu = _virement_execute(martin, permis, "120.00", "t-3")
    retenu.refresh_from_db()
    assert retenu.statut_regie == StatutRegie.A_TRAITER, retenu.motif_a_traiter

    # 11. The régisseur's home page says what waits.
    _connexion_agent(page, monde["regisseur"])
    a_faire = page.locator("#a-faire")
    lien = a_faire.get_by_role("link", name=re.compile(r"1 virement à traiter"))
    etapes.verifier("50-admin-accueil-a-faire", lien)
    lien.click()
    ligne = page.locator("#result_list tbody tr").filter(has_text=retenu.reference)
    expect(ligne).to_contain_text("Jean-Pierre MARTIN")
    expect(ligne).to_contain_text(re.compile(r"120,00\s€"))
    expect(page.locator("#result_list")).not_to_contain_text("fc-martin")
    expect(page.locator("#result_list thead")).not_to_contain_text(
        re.compile("etablissement|detenu", re.IGNORECASE)
    )
    etapes.verifier("51-admin-virements-a-traiter")

    # 12. The transfer's page in plain French.
    ligne.get_by_role("link", name=retenu.reference).click()
    expect(page.locator("h1")).to_have_text(f"Virement {retenu.reference}")
    contenu = page.locator("#content")
    expect(contenu).to_contain_text("Jean-Pierre MARTIN")
    expect(contenu).to_contain_text("À créditer → À traiter par le régisseur")
    expect(contenu).to_contain_text("Crédit du compte nominatif")
    for brut in ("a_crediter", "a_traiter", "APRES", "fc-martin", "120.00"):
        assert brut not in contenu.inner_text(), brut
    etapes.verifier("52-admin-virement-retenu")

    # 11. « Créditer » names the cap it passes over and asks for confirmation.
    page.get_by_role("link", name="Créditer ou retourner ce virement").click()
    avertissement = page.locator(".messagelist .warning")
    expect(avertissement).to_contain_text("passe outre un plafond")
    expect(avertissement).to_contain_text(
        re.compile(r"plafond mensuel fixé par l'établissement pour un même proche : 600,00\s€")
    )
    page.get_by_label("Créditer le compte nominatif").check()
    page.get_by_label("Motif").fill("Mandat pour les fêtes, accord du chef")
    page.locator("#regie-operation-form input[type=submit]").click()
    expect(page.locator(".errorlist")).to_contain_text("cochez la case")
    etapes.verifier("53-admin-credit-au-dela-du-plafond")
    page.get_by_label("Je confirme créditer ce virement au-delà du plafond").check()
    page.locator("#regie-operation-form input[type=submit]").click()
    expect(page.locator(".messagelist .success")).to_contain_text("au-delà du plafond")
    retenu.refresh_from_db()
    assert retenu.statut_regie == StatutRegie.CREDITE

    # 10. The D.422 request names its sender from the relatives with a registered permit.
    page.goto(f"/admin/regie/autorisationd422/add/?detenu={monde['detenu'].pk}")
    choix = page.get_by_label("Proche émetteur inscrit sur le portail")
    options = choix.locator("option").all_inner_texts()
    assert "Angela Claire Louise DUBOIS – permis n° PV-FRE-0042" in options, options
    assert "Jean-Pierre MARTIN – permis n° PV-FRE-0002" in options, options
    page.get_by_label("Montant demandé (€)").fill("450")
    page.get_by_label("Objet de la dépense").fill("Ordinateur portable pour une formation")
    choix.select_option(label="Angela Claire Louise DUBOIS – permis n° PV-FRE-0042")
    page.get_by_label("Réparti selon les règles ordinaires").check()
    etapes.verifier("54-admin-d422-demande")
    page.locator("#regie-operation-form input[type=submit]").click()
    autorisation = AutorisationD422.objects.get()
    assert autorisation.emetteur_ref == f"proche:{monde['angela'].pk}"
    assert autorisation.emetteur_attendu == "Angela Claire Louise DUBOIS"
    expect(page.locator("#content")).to_contain_text("Angela Claire Louise DUBOIS")

    # The chef: « À faire », the list (n°, €), the page with its buttons under the title.
    chef = navigateur.new_context(base_url=portail.url, locale="fr-FR", **_ecran(profil))
    try:
        page_chef = chef.new_page()
        etapes_chef = Etapes(page_chef, profil)
        _connexion_agent(page_chef, monde["chef"])
        lien = page_chef.locator("#a-faire").get_by_role(
            "link", name=re.compile(r"1 demande de subside exonéré \(D\.422\) à décider")
        )
        lien.click()
        entete = page_chef.locator("#result_list thead")
        expect(entete).to_contain_text("N°")
        expect(entete).not_to_contain_text("PK")
        expect(page_chef.locator("#result_list tbody")).to_contain_text(re.compile(r"450,00\s€"))
        etapes_chef.verifier("55-admin-d422-liste")
        page_chef.locator("#result_list tbody a").first.click()
        expect(page_chef.locator("h1")).to_have_text(f"Autorisation D.422 n° {autorisation.pk}")
        titre = page_chef.locator("#content h2").first.bounding_box()
        outils = page_chef.locator(".object-tools").bounding_box()
        assert outils["y"] >= titre["y"] + titre["height"] - 1, (titre, outils)
        etapes_chef.verifier("56-admin-d422-chef")
    finally:
        chef.close()


def _ecran(profil):
    from tests.navigateur.outils import PROFILS

    return PROFILS[profil]
