"""Vigilance over incoming money (issue 12, item 8; former D. 274 and D. 339): the chef's
rules per establishment, the « à examiner » queue and its decision, the printable notice,
and the hold on a sender's credits that the payments side obeys. The decision never
blocks crediting unless the chef says so."""

import datetime
import uuid
from decimal import Decimal as D

import pytest
from django.urls import reverse

from pecule import services as pecule_services
from pecule.fournisseurs.base import EtatPaiement
from pecule.models import StatutRegie
from pecule.services.commun import emetteur_de
from regie import documents, services
from regie.exceptions import DecisionDejaPrise, DroitsInsuffisants, OperationInterdite
from regie.models import (
    AlerteVigilance,
    NatureEcriture,
    ReglesVigilance,
    RegleVigilance,
    RetenueEmetteur,
    StatutAlerte,
)
from regie.selectors import motif_retenue_credit
from tests.documents.conftest import texte_pdf
from tests.factories import DetenuFactory, EtablissementFactory, agent
from tests.pecule.conftest import fournisseur_memoire, situation

__all__ = ["fournisseur_memoire", "situation"]

pytestmark = pytest.mark.django_db

JUIN = datetime.date(2026, 6, 10)


@pytest.fixture(autouse=True)
def _hachage_rapide(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def etablissement():
    return EtablissementFactory()


@pytest.fixture
def regisseur(etablissement):
    return agent("Régisseur", etablissement)


@pytest.fixture
def chef(etablissement):
    return agent("Chef d'établissement", etablissement)


def regles(etablissement, chef, **valeurs):
    return services.fixer_regles_vigilance(etablissement=etablissement, auteur=chef, **valeurs)


def recette(compte, montant, auteur, emetteur="", jour=JUIN):
    return services.encaisser_recette(
        compte=compte,
        montant=D(montant),
        nature=NatureEcriture.SUBSIDE_PROCHE,
        source=f"test:{uuid.uuid4()}",
        motif="virement",
        auteur=auteur,
        date_operation=jour,
        emetteur=emetteur,
    )


def test_sans_regles_rien_n_est_releve(etablissement, regisseur):
    compte = DetenuFactory(etablissement=etablissement).compte
    recette(compte, "5000.00", regisseur)
    assert not AlerteVigilance.objects.exists()


def test_montant_d_une_recette_et_total_du_mois(etablissement, regisseur, chef):
    regles(etablissement, chef, seuil_par_recette=D("150.00"), seuil_mensuel=D("400.00"))
    compte = DetenuFactory(etablissement=etablissement).compte
    recette(compte, "149.99", regisseur)
    assert not AlerteVigilance.objects.exists()
    ecriture = recette(compte, "150.00", regisseur, emetteur="proche:9")
    alerte = AlerteVigilance.objects.get()
    assert (alerte.regle, alerte.ecriture, alerte.montant) == (
        RegleVigilance.MONTANT,
        ecriture,
        D("150.00"),
    )
    # Credited all the same: 149.99 + 150 = 299.99 in the part disponible (under 200 € the
    # allowance, then 20 % x 99.99 = 20.00 to part 1, 10 % = 10.00 to the pécule).
    compte.refresh_from_db()
    assert compte.total == D("299.99")
    # 299.99 + 100.01 = 400.00 reaches the month's 400: one alert on the month's total.
    recette(compte, "100.01", regisseur)
    mensuelle = AlerteVigilance.objects.get(regle=RegleVigilance.CUMUL_MENSUEL)
    assert mensuelle.montant == D("400.00")
    recette(compte, "10.00", regisseur)  # already over: not raised again
    assert AlerteVigilance.objects.filter(regle=RegleVigilance.CUMUL_MENSUEL).count() == 1


def test_un_emetteur_plusieurs_detenus_et_plusieurs_emetteurs(etablissement, regisseur, chef):
    regles(
        etablissement,
        chef,
        detenus_par_emetteur=3,
        emetteurs_par_detenu=3,
        periode_jours=30,
    )
    a, b, c = (DetenuFactory(etablissement=etablissement).compte for _ in range(3))
    recette(a, "20.00", regisseur, emetteur="proche:1", jour=datetime.date(2026, 5, 20))
    recette(b, "20.00", regisseur, emetteur="proche:1", jour=JUIN)
    assert not AlerteVigilance.objects.exists()
    recette(c, "20.00", regisseur, emetteur="proche:1", jour=JUIN)
    # 20 May to 10 June is within the 30 days (10 June - 29 days = 12 May).
    alerte = AlerteVigilance.objects.get(regle=RegleVigilance.EMETTEUR_PLUSIEURS_DETENUS)
    assert "3 personnes détenues" in alerte.details and alerte.emetteur == "proche:1"
    recette(a, "20.00", regisseur, emetteur="proche:2", jour=JUIN)
    assert not AlerteVigilance.objects.filter(regle=RegleVigilance.PLUSIEURS_EMETTEURS).exists()
    recette(a, "20.00", regisseur, emetteur="proche:3", jour=JUIN)
    assert AlerteVigilance.objects.get(regle=RegleVigilance.PLUSIEURS_EMETTEURS).detenu == (
        a.detenu
    )


def test_retour_de_permission_bien_au_dela_de_la_somme_remise(etablissement, regisseur, chef):
    regles(etablissement, chef, excedent_retour_permission=D("100.00"))
    compte = DetenuFactory(etablissement=etablissement).compte
    recette(compte, "100.00", regisseur)
    permission = services.fixer_permission_sortie(
        compte=compte, montant=D("80.00"), date_sortie=JUIN, auteur=chef
    )
    services.remettre_somme_permission(permission=permission, auteur=regisseur, date_operation=JUIN)
    services.enregistrer_retour_permission(
        permission=permission, montant_rapporte=D("179.99"), auteur=regisseur, date_operation=JUIN
    )
    # 179.99 - 80 = 99.99 more than handed out: under the 100 € set by the chef.
    assert not AlerteVigilance.objects.exists()
    autre = services.fixer_permission_sortie(
        compte=compte, montant=D("10.00"), date_sortie=JUIN, auteur=chef
    )
    services.remettre_somme_permission(permission=autre, auteur=regisseur, date_operation=JUIN)
    services.enregistrer_retour_permission(
        permission=autre, montant_rapporte=D("110.00"), auteur=regisseur, date_operation=JUIN
    )
    alerte = AlerteVigilance.objects.get()
    assert alerte.regle == RegleVigilance.RETOUR_PERMISSION
    assert "100,00 € de plus" in alerte.details


def test_decision_du_chef_et_retenue_des_credits(etablissement, regisseur, chef):
    regles(etablissement, chef, seuil_par_recette=D("100.00"))
    detenu = DetenuFactory(etablissement=etablissement)
    recette(detenu.compte, "300.00", regisseur, emetteur="proche:7")
    alerte = AlerteVigilance.objects.get()
    with pytest.raises(DroitsInsuffisants):
        services.decider_alerte(alerte=alerte, signaler=False, motif="ok", auteur=regisseur)
    with pytest.raises(OperationInterdite, match="autorité judiciaire destinataire"):
        services.decider_alerte(alerte=alerte, signaler=True, motif="origine douteuse", auteur=chef)
    services.decider_alerte(
        alerte=alerte,
        signaler=True,
        motif="Origine inexpliquée",
        autorite="Procureur de la République de Melun",
        date_signalement=JUIN,
        reference_signalement="CE-2026-14",
        retenir_credits=True,
        auteur=chef,
    )
    alerte.refresh_from_db()
    assert alerte.statut == StatutAlerte.SIGNALEE and alerte.decidee_par == chef
    with pytest.raises(DecisionDejaPrise):
        services.decider_alerte(alerte=alerte, signaler=False, motif="x", auteur=chef)
    assert "retenus par décision du chef d'établissement" in motif_retenue_credit(
        detenu, "proche:7"
    )
    assert motif_retenue_credit(detenu, "proche:8") == ""
    services.lever_retenue(retenue=RetenueEmetteur.objects.get(), auteur=chef)
    assert motif_retenue_credit(detenu, "proche:7") == ""


def test_rien_a_signaler_ne_bloque_rien(etablissement, regisseur, chef):
    regles(etablissement, chef, seuil_par_recette=D("100.00"))
    detenu = DetenuFactory(etablissement=etablissement)
    recette(detenu.compte, "300.00", regisseur, emetteur="proche:7")
    services.decider_alerte(
        alerte=AlerteVigilance.objects.get(), signaler=False, motif="Salaire", auteur=chef
    )
    assert motif_retenue_credit(detenu, "proche:7") == ""


def test_les_regles_sont_positives(etablissement, chef):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        regles(etablissement, chef, detenus_par_emetteur=1)
    assert not ReglesVigilance.objects.filter(etablissement=etablissement, detenus_par_emetteur=1)


# --- The payments side obeys the hold -----------------------------------------------------


def test_le_virement_d_un_emetteur_retenu_est_mis_a_traiter(situation, fournisseur_memoire):
    etablissement, detenu = situation["etablissement"], situation["detenu"]
    chef = agent("Chef d'établissement", etablissement)
    regles(etablissement, chef, seuil_par_recette=D("50.00"))

    def virement():
        initie = pecule_services.initier_virement(
            proche=situation["proche"],
            detenu=detenu,
            montant=D("60.00"),
            cle_idempotence=str(uuid.uuid4()),
            url_retour="https://portail.invalid/retour",
        )
        return pecule_services.appliquer_etat(
            virement=initie,
            etat=EtatPaiement(statut="execute", statut_brut="EXECUTE"),
            origine="test",
        )

    premier = virement()
    # The alert never delays the crediting.
    assert premier.statut_regie == StatutRegie.CREDITE
    alerte = AlerteVigilance.objects.get()
    assert alerte.emetteur == emetteur_de(situation["proche"])
    services.decider_alerte(
        alerte=alerte, signaler=False, motif="À surveiller", retenir_credits=True, auteur=chef
    )
    second = virement()
    assert second.statut_regie == StatutRegie.A_TRAITER
    assert "retenus par décision du chef d'établissement" in second.motif_a_traiter


# --- The chef's queue, decision and printable notice in the admin ------------------------


def test_file_a_examiner_decision_et_avis_pdf(client, etablissement, regisseur, chef):
    regles(etablissement, chef, seuil_par_recette=D("100.00"))
    detenu = DetenuFactory(etablissement=etablissement, nom="ROCHE")
    recette(detenu.compte, "250.00", regisseur, emetteur="proche:3")
    alerte = AlerteVigilance.objects.get()
    autre = EtablissementFactory()
    regles(autre, agent("Chef d'établissement", autre), seuil_par_recette=D("1.00"))
    recette(DetenuFactory(etablissement=autre).compte, "5.00", agent("Régisseur", autre))

    client.force_login(chef)
    liste = client.get(reverse("admin:regie_alertevigilance_changelist"), follow=True)
    assert liste.redirect_chain[0][0].endswith("?statut__exact=a_examiner")
    assert list(liste.context["cl"].result_list) == [alerte]  # the other prison's is not shown
    decision = reverse("admin:regie_alertevigilance_decision", args=[alerte.pk])
    client.force_login(regisseur)
    assert client.get(decision).status_code == 403
    client.force_login(chef)
    reponse = client.post(
        decision,
        {
            "jeton": str(uuid.uuid4()),
            "decision": "signaler",
            "motif": "Somme sans rapport avec les ressources connues",
            "autorite": "Procureur de la République",
            "date_signalement": "2026-06-30",
            "reference_signalement": "SIG-1",
        },
    )
    assert reponse.status_code == 302
    alerte.refresh_from_db()
    assert alerte.statut == StatutAlerte.SIGNALEE
    pdf = client.get(reverse("admin:regie_alertevigilance_avis", args=[alerte.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    texte = texte_pdf(documents.avis_vigilance(alerte))
    assert "Signalement à l'autorité judiciaire" in texte
    assert "ROCHE" in texte and "250,00 €" in texte and "SIG-1" in texte


def test_le_chef_fixe_les_regles_dans_l_admin(client, etablissement, regisseur, chef):
    ajout = reverse("admin:regie_reglesvigilance_add")
    donnees = {
        "etablissement": etablissement.pk,
        "seuil_par_recette": "500,00",
        "seuil_mensuel": "",
        "detenus_par_emetteur": "3",
        "emetteurs_par_detenu": "",
        "periode_jours": "30",
        "excedent_retour_permission": "",
        "instruction": "Note de service n° 12",
    }
    client.force_login(regisseur)
    assert client.post(ajout, donnees).status_code == 403
    client.force_login(chef)
    assert client.post(ajout, donnees).status_code == 302
    regles_etab = ReglesVigilance.objects.get(etablissement=etablissement)
    assert regles_etab.seuil_par_recette == D("500.00") and regles_etab.modifiees_par == chef
