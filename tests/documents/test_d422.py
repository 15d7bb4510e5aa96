"""The D.422 request and decision forms: amount, purpose, sender, remainder choice; the
magistrate's decision for a prévenu, the head's decision, its author and date; a pending
request shows it is pending. Printable from the back-office, within one's establishments."""

import datetime
from decimal import Decimal as D

import pytest
from django.utils import timezone

from regie import documents
from regie import services as regie_services
from regie.models import ChoixReliquat, DecisionMagistrat, StatutPenal
from tests.factories import DetenuFactory, EtablissementFactory, agent

from .conftest import artefact, texte_pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def etablissement():
    return EtablissementFactory(code="CPM", nom="Centre pénitentiaire de Marseille")


@pytest.fixture
def regisseur(etablissement):
    return agent("Régisseur", etablissement, username="regisseur-d422")


@pytest.fixture
def chef(etablissement):
    chef = agent("Chef d'établissement", etablissement, username="chef-d422")
    chef.first_name, chef.last_name = "Hélène", "DIRECTRICE"
    chef.save()
    return chef


def demande(detenu, auteur, **options):
    valeurs = {
        "montant": D("250.00"),
        "objet": "Fauteuil roulant non pris en charge",
        "emetteur_attendu": "Marie DUPONT (sa sœur)",
        "reliquat": ChoixReliquat.RESTITUER,
        "date_demande": datetime.date(2025, 3, 3),
    }
    valeurs.update(options)
    return regie_services.demander_d422(detenu=detenu, auteur=auteur, **valeurs)


def test_prevenu_autorise_apres_le_magistrat(etablissement, regisseur, chef):
    detenu = DetenuFactory(
        etablissement=etablissement,
        statut_penal=StatutPenal.PREVENU,
        nom="ROUX",
        prenoms="Karim",
        numero_ecrou="777001",
    )
    autorisation = demande(detenu, regisseur)
    regie_services.enregistrer_decision_magistrat(
        autorisation=autorisation,
        decision=DecisionMagistrat.FAVORABLE,
        magistrat_nom="Mme Claire JUGE",
        reference="JI-2025-042",
        date_decision=datetime.date(2025, 3, 12),
        auteur=regisseur,
    )
    autorisation = regie_services.decider_d422(
        autorisation=autorisation,
        accorder=True,
        motif="Dépense justifiée par l'état de santé",
        auteur=chef,
    )

    demande_pdf = documents.formulaire_demande_d422(autorisation)
    artefact(demande_pdf, "d422-demande")
    texte = texte_pdf(demande_pdf)
    assert "Demande de subside exonéré de répartition" in texte
    assert f"demande n° {autorisation.pk}" in texte
    assert "ROUX Karim" in texte and "777001" in texte
    assert "250,00 €" in texte
    assert "Fauteuil roulant non pris en charge" in texte
    assert "Marie DUPONT (sa sœur)" in texte
    assert (
        "Restitué à l'émetteur aux frais de la personne détenue (choix de la personne détenue)"
        in texte
    )
    assert "Réparti selon les règles ordinaires (choix" not in texte
    assert "03/03/2025" in texte
    assert "accord du magistrat chargé de l'information est requis" in texte

    decision_pdf = documents.formulaire_decision_d422(autorisation)
    artefact(decision_pdf, "d422-decision")
    texte = texte_pdf(decision_pdf)
    assert "Décision du magistrat chargé de l'information" in texte
    assert "Décision Favorable" in texte
    assert "Mme Claire JUGE" in texte and "JI-2025-042" in texte and "12/03/2025" in texte
    assert "Décision du chef d'établissement" in texte
    assert "Autorisée" in texte
    assert "Hélène DIRECTRICE" in texte
    decidee_le = timezone.localtime(autorisation.decidee_le)
    assert f"Date de la décision {decidee_le:%d/%m/%Y à %H:%M}" in texte
    assert "Dépense justifiée par l'état de santé" in texte
    assert "en attente" not in texte.lower()
    # The steps, with their authors.
    for etape in (
        "Demande enregistrée",
        "Décision du magistrat",
        "Autorisation du chef d'établissement",
    ):
        assert etape in texte
    assert texte.count("Hélène DIRECTRICE") >= 2


def test_condamne_refuse_sans_magistrat(etablissement, regisseur, chef):
    detenu = DetenuFactory(etablissement=etablissement, statut_penal=StatutPenal.CONDAMNE)
    autorisation = demande(detenu, regisseur, reliquat=ChoixReliquat.REPARTIR)
    regie_services.decider_d422(
        autorisation=autorisation, accorder=False, motif="Moyens suffisants", auteur=chef
    )
    texte = texte_pdf(documents.formulaire_decision_d422(autorisation))
    assert "magistrat" not in texte.lower().split("décision du chef")[0].split("demande écrite")[1]
    assert "Décision du magistrat chargé de l'information" not in texte
    assert "Refusée" in texte and "Moyens suffisants" in texte and "Hélène DIRECTRICE" in texte
    texte = texte_pdf(documents.formulaire_demande_d422(autorisation))
    assert "Réparti selon les règles ordinaires (choix de la personne détenue)" in texte


def test_demande_en_attente(etablissement, regisseur):
    prevenu = DetenuFactory(etablissement=etablissement, statut_penal=StatutPenal.PREVENU)
    autorisation = demande(prevenu, regisseur)
    pdf = documents.formulaire_decision_d422(autorisation)
    artefact(pdf, "d422-decision-en-attente")
    texte = texte_pdf(pdf)
    assert "Demande en attente de décision" in texte
    assert "La décision du magistrat chargé de l'information n'est pas encore enregistrée" in texte
    assert "Aucune décision n'a encore été prise." in texte
    assert "Ce document n'est pas une décision." in texte

    condamne = DetenuFactory(etablissement=etablissement, statut_penal=StatutPenal.CONDAMNE)
    texte = texte_pdf(documents.formulaire_decision_d422(demande(condamne, regisseur)))
    assert "Le chef d'établissement n'a pas encore décidé." in texte


def test_administration(client, etablissement, regisseur):
    autorisation = demande(DetenuFactory(etablissement=etablissement), regisseur)
    ailleurs = EtablissementFactory(code="LOIN")
    autre = demande(DetenuFactory(etablissement=ailleurs), agent("Régisseur", ailleurs))
    client.force_login(regisseur)
    for route, titre in (
        ("formulaire-demande.pdf", "Demande de subside exonéré"),
        ("formulaire-decision.pdf", "Décision sur une demande"),
    ):
        reponse = client.get(f"/admin/regie/autorisationd422/{autorisation.pk}/{route}")
        assert reponse.status_code == 200
        assert reponse["Content-Type"] == "application/pdf"
        assert reponse["Content-Disposition"].startswith("inline; filename=")
        assert titre in texte_pdf(reponse.content)
        assert client.get(f"/admin/regie/autorisationd422/{autre.pk}/{route}").status_code == 404
