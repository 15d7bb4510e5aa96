"""The back-office's operations of issue 12 (regie.admin_operations.OPERATIONS_SITUATIONS):
each page opens for the role that may use it, each form calls its service, refusals are
shown in French and write nothing."""

import datetime
import uuid
from decimal import Decimal as D

import pytest
from django.urls import reverse

from regie import admin_operations, services
from regie.models import (
    Detenu,
    Ecriture,
    NatureEcriture,
    Partie,
    Saisie,
    TypeSuspension,
)
from tests.factories import DetenuFactory, EtablissementFactory, agent

pytestmark = pytest.mark.django_db

JOUR = datetime.date(2026, 6, 16)


@pytest.fixture(autouse=True)
def _hachage_rapide(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def etab():
    return EtablissementFactory()


@pytest.fixture
def regisseur(etab):
    return agent("Régisseur", etab)


@pytest.fixture
def chef(etab):
    return agent("Chef d'établissement", etab)


@pytest.fixture
def compte(etab):
    compte = DetenuFactory(etablissement=etab, nom="MARTIN").compte
    services.encaisser_recette(
        compte=compte,
        montant=D("600.00"),
        nature=NatureEcriture.SALAIRE,
        source="salaire",
        motif="Salaire",
        auteur_systeme="test",
        date_operation=JOUR,
    )  # 90 / 40 / 470
    return compte


def url(nom, *args):
    return reverse(f"admin:regie_comptenominatif_{nom}", args=args)


def texte(reponse):
    return reponse.content.decode()


SANS_PARAMETRE = [
    operation
    for operation in admin_operations.OPERATIONS_SITUATIONS
    if "<int:" not in operation.route
]


@pytest.mark.parametrize("operation", SANS_PARAMETRE, ids=lambda operation: operation.nom)
def test_chaque_page_s_ouvre_pour_le_role_qui_peut_s_en_servir(
    client, regisseur, chef, compte, operation
):
    role = chef if operation.permission == "regie.decider_deblocage_pecule" else regisseur
    client.force_login(role)
    assert client.get(url(operation.nom, compte.pk)).status_code == 200
    autre = agent("Régisseur", EtablissementFactory())
    client.force_login(autre)
    assert client.get(url(operation.nom, compte.pk)).status_code == 404


def test_la_page_du_compte_propose_les_mesures(client, regisseur, compte):
    client.force_login(regisseur)
    page = texte(client.get(reverse("admin:regie_comptenominatif_change", args=[compte.pk])))
    for nom in ("suspension", "deces", "evasion", "saisie", "aide_numeraire"):
        assert url(nom, compte.pk) in page


def test_suspension_depuis_l_admin(client, regisseur, compte):
    client.force_login(regisseur)
    reponse = client.post(
        url("suspension", compte.pk),
        {
            "jeton": str(uuid.uuid4()),
            "type_suspension": TypeSuspension.SUSPENSION,
            "date_debut": JOUR.isoformat(),
            "decision": "JAP 2026/3",
            "remettre_part_disponible": "on",
        },
    )
    assert reponse.status_code == 302
    compte.refresh_from_db()
    # Only the part disponible (470) is handed over.
    assert (compte.parties_civiles, compte.pecule_liberation, compte.part_disponible) == (
        D("90.00"),
        D("40.00"),
        D("0.00"),
    )
    page = texte(client.get(reverse("admin:regie_comptenominatif_change", args=[compte.pk])))
    assert "seule la part disponible peut être remise" in page
    assert url("fin_suspension", compte.pk) in page
    fiche = texte(client.get(reverse("admin:regie_detenu_change", args=[compte.detenu_id])))
    assert "JAP 2026/3" in fiche


def test_saisie_depuis_l_admin_refus_en_francais(client, regisseur, compte):
    client.force_login(regisseur)
    assert (
        client.post(
            url("saisie", compte.pk),
            {
                "jeton": str(uuid.uuid4()),
                "creancier": "Société X",
                "reference_acte": "Acte 1",
                "date_acte": JOUR.isoformat(),
                "montant_cause": "1000",
                "montant_laisse": "400",
            },
        ).status_code
        == 302
    )
    saisie = Saisie.objects.get()
    paiement = url("saisie_paiement", compte.pk, saisie.pk)
    # Seizable: the free part disponible 470 - 400 left = 70.
    assert "Saisissable maintenant : 70,00" in texte(client.get(paiement)).replace("\u202f", " ")
    reponse = client.post(
        paiement,
        {
            "jeton": str(uuid.uuid4()),
            "montant": "70,01",
            "date_operation": JOUR.isoformat(),
            "iban": "FR76 3000 6000 0112 3456 7890 286",
        },
    )
    assert reponse.status_code == 200
    assert "ne peut prendre que 70,00" in texte(reponse).replace("\u202f", " ")
    assert not Ecriture.objects.filter(nature=NatureEcriture.SAISIE_ATTRIBUTION).exists()
    reponse = client.post(
        paiement,
        {
            "jeton": str(uuid.uuid4()),
            "montant": "70",
            "date_operation": JOUR.isoformat(),
            "iban": "FR76 3000 6000 0112 3456 7890 286",
        },
    )
    assert reponse.status_code == 302
    ecriture = Ecriture.objects.get(nature=NatureEcriture.SAISIE_ATTRIBUTION)
    assert ecriture.lignes.get(partie=Partie.PART_DISPONIBLE).montant == D("-70.00")
    # The creditor is paid by a payment order, to validate by a second person.
    ordre = ecriture.ordres_virement.get()
    assert (ordre.beneficiaire_nom, ordre.beneficiaire_iban) == (
        "Société X",
        "FR7630006000011234567890286",
    )


def test_paiement_de_la_contrainte_reserve_au_chef(client, regisseur, chef, compte):
    services.placer_sous_contrainte_judiciaire(
        detenu=compte.detenu,
        date_debut=JOUR,
        montant_dette=D("50.00"),
        reference="R",
        auteur=regisseur,
    )
    Detenu.objects.filter(pk=compte.detenu_id).update(victimes_indemnisees_ou_absentes=True)
    donnees = {
        "jeton": str(uuid.uuid4()),
        "montant": "50",
        "date_operation": JOUR.isoformat(),
        "piece": "Demande du 15/06",
    }
    client.force_login(regisseur)
    assert client.post(url("contrainte_paiement", compte.pk), donnees).status_code == 403
    client.force_login(chef)
    assert client.post(url("contrainte_paiement", compte.pk), donnees).status_code == 302
    compte.refresh_from_db()
    # 50 from the pécule's 40, then 10 from part 1's 90.
    assert (compte.parties_civiles, compte.pecule_liberation) == (D("80.00"), D("0.00"))
