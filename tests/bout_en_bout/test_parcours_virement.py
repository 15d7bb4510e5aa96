"""A relative's transfer from end to end (spec 02-parcours-proche.md and 03-paiements.md),
with the real processes: the portal (live server), the FranceConnect stand-in (node), the
sandbox bank (its own process, its own pages, signed notifications back to the portal).

- `test_virement_dans_le_navigateur`: chromium plays Angela from the home page to the
  history (FranceConnect, « Ajouter un permis de visite », the caps, the refusal above the
  cap, the bank's pages, « Confirmer », « Voir l'historique »), then the régisseur opens
  the detainee's account in the admin and sees the split of the 150 € transfer: all of it
  to the part disponible, or, after a 300 € wage this month, split between the three
  parts as `regie.repartition.repartir` computes it.
- The other outcomes, played over plain HTTP (Django's test client for the portal,
  `BanqueSandbox.payer` for the bank's pages) to keep the run short: refusal, cancellation
  (in the bank's window or on the bank selection page), pending then success (settled by
  the sandbox's notification alone), the amount form submitted twice with the same token
  (one transfer, one payment at the sandbox), also by two simultaneous requests.

Screenshots: test-artifacts/captures/bout-en-bout/ (docs/tests-bout-en-bout.md).
"""

from __future__ import annotations

import re
import threading
import time
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from tests.bout_en_bout.outils import (
    CODE_ETABLISSEMENT,
    DELAI,
    ETABLISSEMENT,
    MOT_DE_PASSE_AGENT,
    attendre_notifications_traitees,
    attendre_virement,
    capturer,
    ligne_historique,
    proche_avec_permis,
    sans_espaces,
    texte_html,
)

pytestmark = pytest.mark.slow

CREDITE = "Crédité sur le compte nominatif"


# --- The browser journey ---------------------------------------------------------------------


def _repartition_attendue(compte, montant: Decimal):
    """What the régie's rule engine gives for `montant` received now on this account."""
    from regie.models import CompteurMensuel
    from regie.repartition import Situation, repartir

    compte.refresh_from_db()
    jour = timezone.localdate()
    compteur = CompteurMensuel.objects.filter(
        compte=compte, annee=jour.year, mois=jour.month
    ).first()
    detenu = compte.detenu
    return repartir(
        montant,
        Situation(
            cumul_mois=compteur.cumul if compteur else Decimal("0.00"),
            mois=jour.month,
            sans_pecule=detenu.sans_pecule,
            solde_parties_civiles=compte.parties_civiles,
            plafond_parties_civiles=detenu.plafond_parties_civiles,
        ),
    )


def _euros_admin(montant: Decimal) -> str:
    """The admin's amounts (floatformat "2g", French): 372,50 (spaces left out)."""
    entier, _, decimales = f"{montant:.2f}".partition(".")
    return f"{int(entier):,}".replace(",", "") + f",{decimales}€"


@pytest.mark.parametrize(
    "salaire", [None, Decimal("300.00")], ids=["sans-autre-recette", "apres-salaire-300"]
)
def test_virement_dans_le_navigateur(
    page, navigateur, portail, banque, franceconnect, situation, salaire
):
    from pecule.models import NotificationRecue, StatutPaiement, StatutRegie, Virement
    from regie import services as regie
    from regie.models import LigneEcriture, NatureEcriture, Partie

    prefixe = "a" if salaire is None else "b"
    angela = franceconnect.identites["test"]
    compte = situation["compte"]
    montant = Decimal("150.00")
    if salaire is not None:
        regie.encaisser_recette(
            compte=compte,
            montant=salaire,
            nature=NatureEcriture.SALAIRE,
            source="bout-en-bout:salaire",
            motif="Rémunération du travail en atelier",
            auteur_systeme="tests de bout en bout",
        )
    attendu = _repartition_attendue(compte, montant)
    avant = {
        "parties_civiles": compte.parties_civiles,
        "pecule_liberation": compte.pecule_liberation,
        "part_disponible": compte.part_disponible,
    }
    if salaire is None:
        # Under the month's 200 € allowance (400 € in December): all to the part disponible.
        assert (attendu.parties_civiles, attendu.pecule_liberation, attendu.part_disponible) == (
            Decimal("0.00"),
            Decimal("0.00"),
            Decimal("150.00"),
        )
    else:
        # At T0 = 300 € the transfer is levied for both part 1 and the pécule.
        assert attendu.parties_civiles > 0 and attendu.pecule_liberation > 0
        assert attendu.part_disponible < montant

    # 1. The home page, FranceConnect, the stand-in's login page, back on « Accueil ».
    page.goto("/")
    bouton_fc = page.get_by_role("button", name="S’identifier avec FranceConnect")
    expect(bouton_fc).to_be_visible()
    capturer(page, f"{prefixe}01-accueil-public")
    bouton_fc.click()
    expect(
        page.get_by_role("heading", name="Connexion au fournisseur d'identité de test")
    ).to_be_visible()
    page.get_by_label("Identifiant").fill(angela["login"])
    page.get_by_label("Mot de passe").fill(angela["password"])
    capturer(page, f"{prefixe}02-franceconnect-connexion")
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(f"{portail.url}/espace/")
    expect(page.get_by_role("heading", level=1, name="Accueil")).to_be_visible()
    expect(page.get_by_text("Bonjour Angela Claire Louise DUBOIS.")).to_be_visible()
    capturer(page, f"{prefixe}03-espace-accueil")

    # 2. « Ajouter un permis de visite ».
    page.get_by_role("link", name="Ajouter un permis de visite").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ajouter un permis de visite")
    page.get_by_label("Numéro du permis de visite").fill("PV-2026-0042")
    page.get_by_label("Établissement pénitentiaire").select_option(
        label=f"{ETABLISSEMENT} ({CODE_ETABLISSEMENT})"
    )
    page.get_by_label("Numéro d'écrou de la personne détenue").fill("204518")
    capturer(page, f"{prefixe}04-ajouter-un-permis")
    page.get_by_role("button", name="Ajouter le permis").click()
    expect(page).to_have_url(f"{portail.url}/espace/")
    expect(page.get_by_text("Le permis de visite pour Paul DURAND a été ajouté")).to_be_visible()
    carte = page.locator(".fr-card").filter(has=page.get_by_role("heading", name="Paul DURAND"))
    expect(carte).to_contain_text(f"{ETABLISSEMENT} – permis n° PV-2026-0042")
    expect(carte.get_by_text("Permis actif")).to_be_visible()
    capturer(page, f"{prefixe}05-accueil-avec-permis")

    # 3. « Faire un virement »: the detainee's page shows the caps.
    carte.get_by_role("link", name="Faire un virement").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pécule de Paul DURAND")
    plafonds = page.locator(".fr-callout").filter(has_text="Plafonds fixés par")
    expect(plafonds).to_contain_text(re.compile(r"200,00\s€ au plus par virement"))
    expect(plafonds).to_contain_text(re.compile(r"400,00\s€ au plus par mois"))
    capturer(page, f"{prefixe}06-pecule-du-detenu")

    # 4. « Alimenter le pécule »: 250 € is refused, with the 200 € cap in the message.
    page.get_by_role("link", name="Alimenter le pécule").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alimenter le pécule")
    champ = page.get_by_label("Montant du virement (en euros)")
    realiser = page.get_by_role("button", name="Réaliser le virement")
    champ.fill("250")
    realiser.click()
    expect(champ).to_have_attribute("aria-invalid", "true")
    expect(champ).to_have_accessible_description(
        re.compile(r"plafond par virement fixé par l'établissement : 200,00\s€")
    )
    assert not Virement.objects.exists()
    capturer(page, f"{prefixe}07-montant-refuse-plafond")

    # 5. 150,00 €: on to the sandbox's bank selection page.
    champ.fill("150,00")
    realiser.click()
    expect(page).to_have_url(re.compile(re.escape(f"{banque.url}/paiement/")))
    virement = Virement.objects.get()
    assert virement.montant == montant and virement.url_banque == page.url
    expect(page.get_by_role("heading", level=1)).to_have_text("Choisissez votre banque")
    expect(page.locator("#montant")).to_have_text(re.compile(r"150,00\s€"))
    expect(page.locator("#reference")).to_have_text(virement.reference)
    capturer(page, f"{prefixe}08-banque-choix")

    # 6. The bank's window: log in (prefilled), see the amount, validate (success).
    page.locator("#banque-banque-exemple").click()
    expect(page.locator("#formulaire-connexion")).to_be_visible()
    expect(page.locator("#montant")).to_have_text(re.compile(r"150,00\s€"))
    capturer(page, f"{prefixe}09-banque-connexion")
    page.locator("#bouton-connexion").click()
    expect(page).to_have_url(re.compile(r"/validation$"))
    expect(page.locator("#montant")).to_have_text(re.compile(r"150,00\s€"))
    expect(page.locator("#reference")).to_have_text(virement.reference)
    expect(page.locator("#libelle")).to_contain_text(
        f"ECROU 204518 DURAND Paul {virement.reference}"
    )
    page.locator("#issue").select_option("succes")
    capturer(page, f"{prefixe}10-banque-validation")
    page.locator("#bouton-valider").click()

    # 7. Back on the portal (the status asked to the provider), « Confirmer ».
    url_retour = reverse("pecule:retour", args=[virement.cle_idempotence])
    expect(page).to_have_url(f"{portail.url}{url_retour}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Retour de votre banque")
    # What the bank said, and what « Confirmer » does (the régie's state comes after).
    expect(page.get_by_role("heading", name="Votre banque a validé le virement")).to_be_visible()
    expect(page.get_by_text("Dernière étape : confirmer")).to_be_visible()
    capturer(page, f"{prefixe}11-retour-de-la-banque")
    page.get_by_role("button", name="Confirmer").click()
    # POST, then the confirmation's own address, which can be reopened.
    url_confirmation = reverse("pecule:virement", args=[virement.cle_idempotence])
    expect(page).to_have_url(f"{portail.url}{url_confirmation}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre virement")
    confirmation = page.get_by_role("status")
    expect(confirmation).to_contain_text("Votre virement a bien été confirmé")
    expect(confirmation).to_contain_text(re.compile(r"150,00\s€"))
    expect(confirmation).to_contain_text(virement.reference)
    capturer(page, f"{prefixe}12-confirmation")

    # 8. « Voir l'historique »: once the bank's notifications are processed, the transfer is
    # « Crédité sur le compte nominatif » (reloaded until then, within a bounded delay).
    page.get_by_role("link", name="Voir l'historique").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Historique des virements")
    virement.refresh_from_db()
    journal = attendre_notifications_traitees(banque, virement, {"AUTHORISED", "EXECUTED"})
    assert NotificationRecue.objects.filter(
        id_evenement__in=[n["id_evenement"] for n in journal]
    ).count() == len(journal)
    ligne = page.get_by_role("row").filter(has_text=virement.reference)
    fin = time.monotonic() + DELAI
    while True:
        etat = ligne.locator("[data-etat]").inner_text().strip()
        if etat == CREDITE or time.monotonic() > fin:
            break
        time.sleep(0.2)
        page.reload()
    expect(ligne.locator("[data-etat]")).to_have_text(CREDITE)
    expect(ligne).to_contain_text(re.compile(r"150,00\s€"))
    capturer(page, f"{prefixe}13-historique-credite")

    virement.refresh_from_db()
    assert virement.statut_paiement == StatutPaiement.EXECUTE
    assert virement.statut_regie == StatutRegie.CREDITE
    lignes = dict(
        LigneEcriture.objects.filter(ecriture=virement.ecriture)
        .exclude(partie=Partie.CONTREPARTIE)
        .values_list("partie", "montant")
    )
    assert lignes.get(Partie.PARTIES_CIVILES, Decimal(0)) == attendu.parties_civiles
    assert lignes.get(Partie.PECULE_LIBERATION, Decimal(0)) == attendu.pecule_liberation
    assert lignes.get(Partie.PART_DISPONIBLE, Decimal(0)) == attendu.part_disponible

    # 9. The régisseur logs into the admin and opens the detainee's account.
    contexte_regie = navigateur.new_context(base_url=portail.url, locale="fr-FR")
    contexte_regie.set_default_timeout(15_000)
    try:
        admin = contexte_regie.new_page()
        admin.goto("/admin/login/")
        admin.locator("#id_username").fill(situation["regisseur"].username)
        admin.locator("#id_password").fill(MOT_DE_PASSE_AGENT)
        admin.locator("input[type=submit]").click()
        expect(admin).to_have_url(f"{portail.url}/admin/")
        admin.goto(f"/admin/regie/comptenominatif/{compte.pk}/change/")
        expect(admin.locator("#content h1, #content h2").first).to_contain_text(
            "Compte nominatif de DURAND Paul"
        )
        soldes = {
            "parties_civiles": "#solde-parties-civiles",
            "pecule_liberation": "#solde-pecule-liberation",
            "part_disponible": "#solde-part-disponible",
        }
        for partie, selecteur in soldes.items():
            solde = avant[partie] + getattr(attendu, partie)
            assert sans_espaces(admin.locator(selecteur).inner_text()) == _euros_admin(solde), (
                partie
            )
        # The transfer's ledger line: each part's share of the 150 €.
        ecriture = admin.locator("#result_list tbody tr").filter(has_text=virement.reference)
        expect(ecriture).to_have_count(1)
        cellules = ecriture.locator("td")
        for rang, part in (
            (5, attendu.parties_civiles),
            (6, attendu.pecule_liberation),
            (7, attendu.part_disponible),
            (8, montant),
        ):
            attendu_texte = _euros_admin(part) if part else ""
            assert sans_espaces(cellules.nth(rang).inner_text()) == attendu_texte, rang
        expect(admin.get_by_text("Les soldes et le compteur mensuel concordent")).to_be_visible()
        capturer(admin, f"{prefixe}14-admin-compte-nominatif")
    finally:
        contexte_regie.close()


# --- The other outcomes, over plain HTTP -----------------------------------------------------


def test_refus_de_la_banque(proche, banque):
    from pecule.models import StatutPaiement, StatutRegie

    virement, url_banque = proche.virer("80,00")
    url = banque.payer(url_banque, banque="credit-fictif", issue="refus")
    assert url == proche.url_retour(virement)

    page = texte_html(proche.revenir(url))
    assert "Le virement n'a pas été réalisé" in page
    assert "Votre banque a refusé le virement." in page
    assert "Confirmer" not in page
    # « Confirmer » anyway (an old tab): back to the return page with the reason.
    reponse = proche.confirmer(virement)
    assert reponse.status_code == 302 and reponse["Location"].endswith(
        reverse("pecule:retour", args=[virement.cle_idempotence])
    )

    attendre_notifications_traitees(banque, virement, {"REJECTED"})
    virement.refresh_from_db()
    assert virement.statut_paiement == StatutPaiement.REFUSE
    assert virement.statut_regie == StatutRegie.AUCUN and virement.ecriture is None
    assert "Refusé" in ligne_historique(proche.historique(), virement.reference)


@pytest.mark.parametrize("ou", ["fenetre-banque", "choix-banque"])
def test_annulation_par_le_proche(proche, banque, ou):
    from pecule.models import StatutPaiement

    virement, url_banque = proche.virer("45,50")
    if ou == "fenetre-banque":
        url = banque.payer(url_banque, annuler=True)
    else:
        url = banque.annuler_depuis_selection(url_banque)
    assert url == proche.url_retour(virement)

    page = texte_html(proche.revenir(url))
    assert "Vous avez annulé le virement." in page

    attendre_notifications_traitees(banque, virement, {"CANCELLED"})
    virement.refresh_from_db()
    assert virement.statut_paiement == StatutPaiement.ANNULE and virement.ecriture is None
    assert "Annulé" in ligne_historique(proche.historique(), virement.reference)


def test_en_attente_puis_credite_par_la_notification(proche, banque):
    from pecule.models import EvenementVirement, StatutPaiement, StatutRegie

    # Long enough for the return and « Confirmer » to happen while the bank is pending.
    banque.configurer(pending_delay_seconds=3)
    virement, url_banque = proche.virer("60,00")
    url = banque.payer(url_banque, issue="attente_succes")

    page = texte_html(proche.revenir(url))
    assert "En attente de validation bancaire" in page
    assert "Confirmer" in page
    reponse = proche.confirmer(virement)
    assert reponse.status_code == 302
    assert reponse["Location"] == reverse("pecule:virement", args=[virement.cle_idempotence])
    page = texte_html(proche.get(reponse["Location"]))
    assert "Virement en attente de validation bancaire" in page
    assert "En attente de validation bancaire" in ligne_historique(
        proche.historique(), virement.reference
    )

    # Nothing more from the relative: the sandbox executes the payment after its delay and
    # notifies; the portal asks it and credits the account.
    attendre_notifications_traitees(banque, virement, {"PENDING_BANK", "EXECUTED"})
    attendre_virement(virement, lambda v: v.statut_regie == StatutRegie.CREDITE)
    assert virement.statut_paiement == StatutPaiement.EXECUTE
    execution = EvenementVirement.objects.get(virement=virement, apres=StatutPaiement.EXECUTE)
    assert execution.source == "notification"
    assert CREDITE in ligne_historique(proche.historique(), virement.reference)


def test_double_envoi_du_formulaire(proche, banque, live_server):
    from pecule.models import Virement

    # The same form (same hidden token) posted twice: a double click, or « back » and again.
    jeton = proche.jeton()
    premiere = proche.realiser_virement("120,00", jeton)
    seconde = proche.realiser_virement("120,00", jeton)
    assert premiere.status_code == seconde.status_code == 302
    assert premiere["Location"] == seconde["Location"]
    virement = Virement.objects.get()
    assert virement.cle_idempotence == jeton
    paiements = banque.api("GET", "/__admin__/paiements").json()
    assert [p["id"] for p in paiements] == [virement.id_fournisseur]

    # Two simultaneous requests with another token: still one transfer, one payment.
    jeton = proche.jeton()
    utilisateur = proche.enregistrement.proche
    depart = threading.Barrier(2)
    reponses: list = []
    erreurs: list = []

    def poster():
        from django.db import connection

        try:
            client = Client()
            client.force_login(utilisateur)
            depart.wait(timeout=10)
            reponses.append(
                client.post(
                    proche.url_alimenter,
                    {"montant": "30,00", "jeton": jeton},
                    HTTP_HOST=proche.hote,
                )
            )
        except Exception as exc:  # reported below
            erreurs.append(exc)
        finally:
            connection.close()

    fils = [threading.Thread(target=poster) for _ in range(2)]
    for fil in fils:
        fil.start()
    for fil in fils:
        fil.join(timeout=DELAI)
    assert not any(fil.is_alive() for fil in fils)
    assert not erreurs, erreurs
    assert [r.status_code for r in reponses] == [302, 302]
    assert reponses[0]["Location"] == reponses[1]["Location"]
    second = Virement.objects.get(cle_idempotence=jeton)
    assert Virement.objects.count() == 2
    paiements = banque.api("GET", "/__admin__/paiements").json()
    assert sorted(p["id"] for p in paiements) == sorted(
        [virement.id_fournisseur, second.id_fournisseur]
    )

    # And the first one still goes through once.
    url = banque.payer(virement.url_banque)
    proche.revenir(url)
    attendre_notifications_traitees(banque, virement, {"AUTHORISED", "EXECUTED"})
    attendre_virement(virement, lambda v: v.ecriture_id is not None)


# --- What the browser journey found -------------------------------------------------------


def test_la_csp_laisse_le_formulaire_aller_a_la_banque(client, situation, settings):
    """The amount form's page, with the configuration as shipped (no test override): its
    form-action must allow the default provider's pages, or Chrome blocks the redirect
    to the bank that follows « Réaliser le virement » (found by the browser journey)."""
    options = settings.PECULE_FOURNISSEURS[settings.PECULE_FOURNISSEUR_DEFAUT]["OPTIONS"]
    origine = "/".join(options["url"].split("/")[:3])
    angela, enregistrement = proche_avec_permis(situation)
    client.force_login(angela)
    reponse = client.get(reverse("pecule:alimenter", args=[enregistrement.pk]))
    assert reponse.status_code == 200
    directives = {
        directive.split()[0]: directive.split()[1:]
        for directive in reponse["Content-Security-Policy"].split(";")
        if directive.strip()
    }
    assert origine in directives["form-action"], directives["form-action"]
