"""Articles modelled by issue 12, item 7: the pécule on a livret A (D. 332-14), aid to
detainees without sufficient resources (D. 333-1, D. 333-2), garnishment (D. 332-20) and
the voluntary transfer to part 1 (D. 332-12).

Expected amounts are derived by hand in the comments from the texts and the settings'
values (229 € threshold of the arrêté of 23 January 2023; 30 € cash aid and 20 € emergency
aid of the circular of 7 March 2022)."""

import datetime
from decimal import Decimal as D

import pytest

from regie import services
from regie.exceptions import DroitsInsuffisants, OperationInterdite, SoldeInsuffisant
from regie.models import (
    ChoixReliquat,
    CompteNominatif,
    CompteurMensuel,
    Contrepartie,
    Detenu,
    NatureEcriture,
    Partie,
    StatutPenal,
    StatutSaisie,
)
from regie.selectors import ecarts
from tests.factories import IBAN_PROCHE, DetenuFactory, EtablissementFactory, agent
from tests.horloge import a_paris

pytestmark = pytest.mark.django_db

JANVIER = datetime.date(2026, 1, 15)
JUIN = datetime.date(2026, 6, 10)
_numero = iter(range(10**9))


@pytest.fixture
def etablissement():
    return EtablissementFactory()


@pytest.fixture
def regisseur(etablissement):
    return agent("Régisseur", etablissement)


@pytest.fixture
def chef(etablissement):
    return agent("Chef d'établissement", etablissement)


def source():
    return f"test:{next(_numero)}"


def parts(compte):
    compte.refresh_from_db()
    return compte.parties_civiles, compte.pecule_liberation, compte.part_disponible


def recette(compte, montant, auteur, jour=JUIN):
    return services.encaisser_recette(
        compte=compte,
        montant=D(montant),
        nature=NatureEcriture.SALAIRE,
        source=source(),
        motif="salaire",
        auteur=auteur,
        date_operation=jour,
    )


def debit(compte, montant, auteur, jour):
    return services.debiter_part_disponible(
        compte=compte,
        montant=D(montant),
        nature=NatureEcriture.CANTINE,
        source=source(),
        motif="cantine",
        auteur=auteur,
        date_operation=jour,
    )


# --- Livret A (D. 332-14) ---------------------------------------------------------------


def test_pecule_au_dela_du_seuil_place_sur_livret_a(etablissement, regisseur):
    detenu = DetenuFactory(etablissement=etablissement)
    compte = detenu.compte
    recette(compte, "2200.00", regisseur)
    # Pécule 10 % x (2 200 - 200) = 200: not above the 229 € of the arrêté.
    assert parts(compte)[1] == D("200.00")
    assert services.pecule_a_placer(compte) == D("0.00")
    with pytest.raises(OperationInterdite, match="ne dépasse pas 229,00 €"):
        services.placer_pecule_livret_a(
            compte=compte,
            montant=D("200.00"),
            reference_livret="LA-1",
            auteur=regisseur,
            source=source(),
        )
    recette(compte, "300.00", regisseur)
    compte.refresh_from_db()
    # T0 = 2 200: pécule + 10 % x 300 = 30 -> 230 > 229: the whole pécule is to be placed.
    assert services.pecule_a_placer(compte) == D("230.00")
    assert [c.pk for c, _ in services.comptes_a_placer(CompteNominatif.objects.all())] == [
        compte.pk
    ]
    services.placer_pecule_livret_a(
        compte=compte,
        montant=D("230.00"),
        reference_livret="LA-1",
        auteur=regisseur,
        source=source(),
    )
    # Still part 2 (unavailable): the balance does not move, 230 sit on the livret.
    assert parts(compte)[1] == D("230.00")
    assert services.pecule_sur_livret_a(compte) == D("230.00")
    services.crediter_interets_livret_a(
        compte=compte, montant=D("3.45"), piece="Relevé 2026", auteur=regisseur, source=source()
    )
    assert parts(compte)[1] == D("233.45") == services.pecule_sur_livret_a(compte)
    # The release (or any use of the pécule) needs the livret brought back first.
    with pytest.raises(SoldeInsuffisant, match="233,45 € du pécule de libération sont placés"):
        services.liquider_a_la_liberation(compte=compte, auteur=regisseur, date_liberation=JUIN)
    services.rapatrier_pecule_livret_a(
        compte=compte, montant=D("233.45"), motif="Libération", auteur=regisseur, source=source()
    )
    assert services.pecule_sur_livret_a(compte) == D("0.00")
    services.liquider_a_la_liberation(compte=compte, auteur=regisseur, date_liberation=JUIN)
    assert parts(compte)[1] == D("0.00")
    assert ecarts(compte) == []


def test_le_livret_suit_le_pecule_vers_le_tresor(etablissement, regisseur):
    """A payment of the whole pécule (here, one year after an escape) brings the livret
    back within the same entry."""
    detenu = DetenuFactory(etablissement=etablissement)
    compte = detenu.compte
    recette(compte, "3000.00", regisseur)  # pécule 10 % x 2 800 = 280
    services.placer_pecule_livret_a(
        compte=compte,
        montant=D("250.00"),
        reference_livret="LA",
        auteur=regisseur,
        source=source(),
    )
    services.constater_evasion(
        detenu=detenu,
        date_evasion=JUIN,
        reste_du_parties_civiles=0,
        auteur=regisseur,
        reference="CRI",
    )
    services.verser_au_tresor_apres_evasion(
        compte=compte, auteur=regisseur, source=source(), date_operation=datetime.date(2027, 6, 10)
    )
    assert parts(compte)[1] == D("0.00")
    assert services.pecule_sur_livret_a(compte) == D("0.00")


# --- Aid to detainees without sufficient resources (D. 333-1, D. 333-2) ------------------


def test_aides_d_urgence_puis_en_numeraire(etablissement, regisseur, time_machine):
    # Écroué on 1 July 2026 (the tests' instant): July is the first month of detention.
    compte = DetenuFactory(etablissement=etablissement).compte
    juillet = datetime.date(2026, 7, 1)
    ressources = services.ressources(compte, juillet)
    assert ressources.premier_mois and ressources.aide_en_nature
    urgence = services.attribuer_aide_urgence(
        compte=compte, auteur=regisseur, source=source(), piece="CPU 01/07", date_operation=juillet
    )
    assert urgence.lignes.get(partie=Partie.CONTREPARTIE).contrepartie == Contrepartie.ETAT
    with pytest.raises(OperationInterdite, match="déjà été versée"):
        services.attribuer_aide_urgence(
            compte=compte, auteur=regisseur, source=source(), piece="CPU", date_operation=juillet
        )
    # July: highest free PD 20 < 60, spending 0 < 60, first month -> the 30 € cash aid.
    services.attribuer_aide_numeraire(
        compte=compte, auteur=regisseur, source=source(), piece="CPU 01/07", date_operation=juillet
    )
    assert parts(compte) == (D("0.00"), D("0.00"), D("50.00"))  # 20 + 30
    # Not a receipt: nothing counted in the month.
    assert not CompteurMensuel.objects.filter(compte=compte).exists()
    with pytest.raises(OperationInterdite, match="07/2026 a déjà été versée"):
        services.attribuer_aide_numeraire(
            compte=compte, auteur=regisseur, source=source(), piece="CPU", date_operation=juillet
        )
    # August: July's highest PD 50 < 60, August's 50 < 60, spending 0 -> eligible again.
    time_machine.move_to(a_paris(2026, 8, 3))
    aout = datetime.date(2026, 8, 3)
    services.attribuer_aide_numeraire(
        compte=compte, auteur=regisseur, source=source(), piece="CPU 03/08", date_operation=aout
    )
    assert parts(compte)[2] == D("80.00")
    # September: August's highest PD was 80 >= 60 -> no cash aid (the aid in kind: 80 < 100).
    time_machine.move_to(a_paris(2026, 9, 2))
    septembre = datetime.date(2026, 9, 2)
    situation = services.ressources(compte, septembre)
    assert situation.aide_en_nature and not situation.aide_en_numeraire
    with pytest.raises(OperationInterdite, match="mois précédent 80,00 €"):
        services.attribuer_aide_numeraire(
            compte=compte, auteur=regisseur, source=source(), piece="CPU", date_operation=septembre
        )


def test_aide_refusee_quand_les_depenses_du_mois_atteignent_le_seuil(
    etablissement, regisseur, time_machine
):
    time_machine.move_to(a_paris(2026, 6, 20))
    detenu = DetenuFactory(etablissement=etablissement)
    CompteNominatif.objects.filter(pk=detenu.compte.pk).update(ouvert_le=a_paris(2026, 5, 2))
    compte = detenu.compte
    recette(compte, "59.00", regisseur, jour=datetime.date(2026, 6, 1))
    debit(compte, "40.00", regisseur, datetime.date(2026, 6, 2))
    recette(compte, "30.00", regisseur, jour=datetime.date(2026, 6, 3))
    # June: highest PD 59 (then 19, then 49) < 60; spending 40 < 60; May 0 -> eligible.
    assert services.ressources(compte, datetime.date(2026, 6, 20)).aide_en_numeraire
    debit(compte, "20.00", regisseur, datetime.date(2026, 6, 4))
    # Spending 40 + 20 = 60, not below 60 (D. 333-2, 3°).
    situation = services.ressources(compte, datetime.date(2026, 6, 20))
    assert situation.depenses_mois_courant == D("60.00")
    assert not situation.aide_en_numeraire and situation.aide_en_nature
    with pytest.raises(OperationInterdite, match="dépenses du mois : 60,00 €"):
        services.attribuer_aide_numeraire(
            compte=compte, auteur=regisseur, source=source(), piece="CPU"
        )


# --- Garnishment (D. 332-20) --------------------------------------------------------------


def test_saisie_sur_la_part_disponible_seulement(etablissement, regisseur, chef):
    detenu = DetenuFactory(etablissement=etablissement)
    compte = detenu.compte
    recette(compte, "600.00", regisseur)  # 90 / 40 / 470
    autorisation = services.demander_d422(
        detenu=detenu,
        montant=D("100.00"),
        objet="Lunettes",
        emetteur_attendu="Sa mère",
        reliquat=ChoixReliquat.RESTITUER,
        date_demande=JUIN,
        auteur=regisseur,
    )
    services.decider_d422(autorisation=autorisation, accorder=True, motif="ok", auteur=chef)
    services.encaisser_subside_d422(
        autorisation=autorisation, montant=D("100.00"), source="d", motif="v", auteur=regisseur
    )
    saisie = services.enregistrer_saisie(
        compte=compte,
        creancier="Société X",
        reference_acte="Acte SCP Y n° 42",
        date_acte=JUIN,
        montant_cause=D("1000.00"),
        montant_laisse=D("150.00"),
        auteur=regisseur,
    )
    compte.refresh_from_db()
    # Seizable: free PD 470 (the 100 blocked for D.422 excluded) - 150 left = 320;
    # never part 1 (90) nor the pécule (40).
    assert services.montant_saisissable(saisie, compte) == D("320.00")
    with pytest.raises(SoldeInsuffisant, match="ne peut prendre que 320,00 €"):
        services.payer_saisie(
            saisie=saisie, montant=D("320.01"), auteur=regisseur, source="s0", iban=IBAN_PROCHE
        )
    paiement = services.payer_saisie(
        saisie=saisie, montant=D("320.00"), auteur=regisseur, source=source(), iban=IBAN_PROCHE
    )
    ordre = paiement.ordres_virement.get()
    assert (ordre.beneficiaire_iban, ordre.montant) == (IBAN_PROCHE, D("320.00"))
    assert paiement.lignes.get(partie=Partie.CONTREPARTIE).contrepartie == (
        Contrepartie.CREANCIER_SAISISSANT
    )
    compte.refresh_from_db()
    assert (compte.parties_civiles, compte.pecule_liberation) == (D("90.00"), D("40.00"))
    assert compte.part_disponible_libre == D("150.00")
    assert services.montant_paye_saisie(saisie) == D("320.00")
    # A payment whose order is refused (the money back on the part disponible) no longer
    # counts; the garnishment then ends by a mainlevée.
    services.refuser_ordre(
        ordre=ordre, auteur=agent("Chef d'établissement", etablissement), motif="erreur"
    )
    assert services.montant_paye_saisie(saisie) == D("0.00")
    services.lever_saisie(saisie=saisie, auteur=regisseur, motif="Mainlevée", date_effet=JUIN)
    saisie.refresh_from_db()
    assert saisie.statut == StatutSaisie.LEVEE


def test_saisie_soldee(etablissement, regisseur):
    compte = DetenuFactory(etablissement=etablissement).compte
    recette(compte, "150.00", regisseur)
    saisie = services.enregistrer_saisie(
        compte=compte,
        creancier="FGTI",
        reference_acte="Acte 7",
        date_acte=JUIN,
        montant_cause=D("100.00"),
        montant_laisse=0,
        auteur=regisseur,
    )
    services.payer_saisie(
        saisie=saisie, montant=D("100.00"), auteur=regisseur, source=source(), iban=IBAN_PROCHE
    )
    saisie.refresh_from_db()
    assert saisie.statut == StatutSaisie.SOLDEE
    assert parts(compte)[2] == D("50.00")


# --- Voluntary transfer to part 1 (D. 332-12) --------------------------------------------


def test_versement_volontaire_compte_dans_le_plafond(etablissement, regisseur):
    detenu = DetenuFactory(etablissement=etablissement, statut_penal=StatutPenal.CONDAMNE)
    compte = detenu.compte
    recette(compte, "3000.00", regisseur, jour=JANVIER)
    # January: part 1 40 + 50 + 30 % x 2 400 = 810, pécule 280, PD 1 910.
    assert parts(compte) == (D("810.00"), D("280.00"), D("1910.00"))
    versement = services.verser_volontairement_parties_civiles(
        compte=compte, montant=D("190.00"), auteur=regisseur, source=source(), piece="Demande"
    )
    # Not a receipt: no split, no counter; 810 + 190 = 1 000, 1 910 - 190 = 1 720.
    assert versement.montant_soumis == D("0.00")
    assert parts(compte) == (D("1000.00"), D("280.00"), D("1720.00"))
    Detenu.objects.filter(pk=detenu.pk).update(victimes_indemnisees_ou_absentes=True)
    recette(compte, "500.00", regisseur)
    # June, ceiling met (part 1 holds 1 000): example 15, 0 / 30 / 470.
    assert parts(compte) == (D("1000.00"), D("310.00"), D("2190.00"))
    with pytest.raises(SoldeInsuffisant, match="2\u202f190,00 € disponibles"):
        services.verser_volontairement_parties_civiles(
            compte=compte, montant=D("2190.01"), auteur=regisseur, source=source(), piece="D"
        )
    ailleurs = agent("Régisseur", EtablissementFactory())
    with pytest.raises(DroitsInsuffisants, match="pas affecté"):
        services.verser_volontairement_parties_civiles(
            compte=compte, montant=D("1.00"), auteur=ailleurs, source=source(), piece="D"
        )
