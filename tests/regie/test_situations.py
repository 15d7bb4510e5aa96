"""The écrou's situation (issue 12, items 2, 5 and 7): the pécule released only under a
sentence adjustment (D. 424-3), suspension and fractionnement (D. 332-24), death
(D. 332-8), escape (L. 332-4, D. 332-8-1), contrainte judiciaire (D. 332-23) and the JAP's
particular prescriptions (D. 424-1).

Expected amounts are derived by hand in the comments: part 1 takes 20 % of the month's
total between 200 and 400 €, 25 % between 400 and 600 €, 30 % above (D. 332-12); the
pécule 10 % above 200 € (D. 332-13, D. 332-15)."""

import datetime
from decimal import Decimal as D

import pytest
from django.db import IntegrityError, transaction

from regie import services
from regie.exceptions import DroitsInsuffisants, OperationInterdite, SoldeInsuffisant
from regie.models import (
    ActionSituation,
    CompteNominatif,
    Contrepartie,
    Detenu,
    EvenementSituation,
    NatureEcriture,
    Partie,
    Regime,
    StatutPenal,
    TypePrescriptionJap,
    TypeSuspension,
)
from regie.selectors import ecarts
from tests.factories import (
    IBAN_FOURNISSEUR,
    IBAN_PROCHE,
    DetenuFactory,
    EtablissementFactory,
    agent,
)

pytestmark = pytest.mark.django_db

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


def contrepartie(ecriture, code):
    return sum(
        ligne.montant
        for ligne in ecriture.lignes.filter(partie=Partie.CONTREPARTIE, contrepartie=code)
    )


# --- Item 2: the pécule is released only under a sentence adjustment (D. 424-3) ---------


def debloquer(compte, chef, montant="10.00"):
    return services.debloquer_pecule_liberation(
        compte=compte,
        montant=D(montant),
        source=source(),
        motif="Caution d'un logement",
        auteur=chef,
        date_operation=JUIN,
        beneficiaire="Agence du logement",
        iban=IBAN_FOURNISSEUR,
    )


@pytest.mark.parametrize(
    "regime",
    [
        Regime.SEMI_LIBERTE,
        Regime.PLACEMENT_EXTERIEUR,
        Regime.PLACEMENT_EXTERIEUR_SURVEILLE,
        Regime.SURVEILLANCE_ELECTRONIQUE,
    ],
)
def test_deblocage_pendant_un_amenagement_sous_ecrou(etablissement, regisseur, chef, regime):
    detenu = DetenuFactory(etablissement=etablissement)
    recette(detenu.compte, "600.00", regisseur)  # pécule 10 % x 400 = 40
    detenu.regime = regime
    detenu.save()
    debloquer(detenu.compte, chef, "40.00")
    assert parts(detenu.compte)[1] == D("0.00")


def test_deblocage_refuse_en_detention_ordinaire_ou_avant_jugement(etablissement, regisseur, chef):
    detenu = DetenuFactory(etablissement=etablissement)
    recette(detenu.compte, "600.00", regisseur)
    with pytest.raises(OperationInterdite, match="indisponible en détention ordinaire"):
        debloquer(detenu.compte, chef)
    prevenu = DetenuFactory(
        etablissement=etablissement, statut_penal=StatutPenal.PREVENU, regime=Regime.SEMI_LIBERTE
    )
    with pytest.raises(OperationInterdite, match="personne prévenue"):
        debloquer(prevenu.compte, chef)
    assert parts(detenu.compte)[1] == D("40.00")


# --- Item 5: suspension and fractionnement (D. 332-24) ----------------------------------


def test_suspension_seule_la_part_disponible_est_remise(etablissement, regisseur, chef):
    detenu = DetenuFactory(etablissement=etablissement)
    compte = detenu.compte
    recette(compte, "600.00", regisseur)  # 90 / 40 / 470
    remise = services.suspendre_peine(
        detenu=detenu,
        type_suspension=TypeSuspension.FRACTIONNEMENT,
        date_debut=JUIN,
        decision="JAP Melun 2026/77",
        auteur=regisseur,
    )
    # Only the part disponible (470) is handed over; 90 and 40 stay.
    assert remise.nature == NatureEcriture.REMISE_SUSPENSION
    assert contrepartie(remise, Contrepartie.DETENU) == D("470.00")
    assert parts(compte) == (D("90.00"), D("40.00"), D("0.00"))
    detenu.refresh_from_db()
    assert (detenu.suspension, detenu.suspension_depuis) == (TypeSuspension.FRACTIONNEMENT, JUIN)
    # Parts 1 and 2 stay until the end of the sentence: no release of the pécule, even
    # under a regime that would allow it.
    detenu.regime = Regime.SEMI_LIBERTE
    detenu.save()
    with pytest.raises(OperationInterdite, match=r"D\. 332-24"):
        debloquer(compte, chef)
    # The victims can still be paid at the prosecutor's request.
    services.payer_parties_civiles(
        compte=compte,
        montant=D("30.00"),
        beneficiaire="Mme V.",
        iban=IBAN_PROCHE,
        source=source(),
        motif="réquisition",
        auteur=regisseur,
    )
    # The return under écrou simplifié continues the same account and month's counter.
    services.mettre_fin_suspension(
        detenu=detenu, date_retour=datetime.date(2026, 6, 20), auteur=regisseur
    )
    detenu.refresh_from_db()
    detenu.regime = Regime.ORDINAIRE
    detenu.save()
    assert detenu.suspension == "" and detenu.compte.pk == compte.pk
    ecriture = recette(compte, "100.00", regisseur, jour=datetime.date(2026, 6, 25))
    # June's T0 is still 600: part 1 30 % x 100 = 30, pécule 10, PD 60.
    lignes = {ligne.partie: ligne.montant for ligne in ecriture.lignes.all()}
    assert lignes[Partie.PARTIES_CIVILES] == D("30.00")
    assert lignes[Partie.PECULE_LIBERATION] == D("10.00")
    actions = list(detenu.evenements_situation.values_list("action", "auteur"))
    assert actions == [
        (ActionSituation.SUSPENSION, regisseur.pk),
        (ActionSituation.FIN_SUSPENSION, regisseur.pk),
    ]
    assert ecarts(compte) == []


def test_suspension_constraints_et_droits(etablissement, regisseur):
    detenu = DetenuFactory(etablissement=etablissement)
    with pytest.raises(IntegrityError), transaction.atomic():
        Detenu.objects.filter(pk=detenu.pk).update(suspension=TypeSuspension.SUSPENSION)
    ailleurs = agent("Régisseur", EtablissementFactory())
    with pytest.raises(DroitsInsuffisants):
        services.suspendre_peine(
            detenu=detenu,
            type_suspension=TypeSuspension.SUSPENSION,
            date_debut=JUIN,
            decision="x",
            auteur=ailleurs,
        )


@pytest.mark.postgres
def test_le_journal_des_situations_est_en_ajout_seul(etablissement, regisseur):
    detenu = DetenuFactory(etablissement=etablissement)
    services.constater_deces(detenu=detenu, date_deces=JUIN, auteur=regisseur, reference="AD 1")
    with pytest.raises(IntegrityError, match="ajout seul"), transaction.atomic():
        EvenementSituation.objects.filter(detenu=detenu).update(reference="modifié")


# --- Death (D. 332-8) -----------------------------------------------------------------


def test_deces_compte_conserve_puis_tresor_apres_trois_ans(etablissement, regisseur):
    detenu = DetenuFactory(etablissement=etablissement)
    compte = detenu.compte
    recette(compte, "600.00", regisseur)  # 90 / 40 / 470
    services.constater_deces(detenu=detenu, date_deces=JUIN, auteur=regisseur, reference="AD 12")
    with pytest.raises(OperationInterdite, match="décédée le 10/06/2026"):
        recette(compte, "10.00", regisseur)
    # Victims exist (not compensated): part 1 stays for them; PD and pécule to the heirs.
    remise = services.remettre_aux_ayants_droit(
        compte=compte,
        beneficiaire="Mme X, épouse",
        iban=IBAN_PROCHE,
        piece="Acte de notoriété du 01/06/2026",
        auteur=regisseur,
        source=source(),
        date_operation=JUIN,
    )
    assert contrepartie(remise, Contrepartie.AYANTS_DROIT) == D("510.00")  # 470 + 40
    assert parts(compte) == (D("90.00"), D("0.00"), D("0.00"))
    with pytest.raises(OperationInterdite, match="à partir du 10/06/2029"):
        services.verser_au_tresor_apres_deces(
            compte=compte,
            auteur=regisseur,
            source=source(),
            date_operation=datetime.date(2029, 6, 9),
        )
    tresor = services.verser_au_tresor_apres_deces(
        compte=compte,
        auteur=regisseur,
        source=source(),
        date_operation=datetime.date(2029, 6, 10),
    )
    assert contrepartie(tresor, Contrepartie.TRESOR) == D("90.00")
    assert CompteNominatif.objects.get(pk=compte.pk).cloture_le is not None


# --- Escape (L. 332-4, D. 332-8-1) ----------------------------------------------------


def test_evasion_part_disponible_aux_victimes_reliquat_au_tresor_puis_retablissement(
    etablissement, regisseur
):
    detenu = DetenuFactory(etablissement=etablissement)
    compte = detenu.compte
    recette(compte, "600.00", regisseur)  # 90 / 40 / 470
    evasion = services.constater_evasion(
        detenu=detenu,
        date_evasion=JUIN,
        reste_du_parties_civiles=D("100.00"),
        auteur=regisseur,
        reference="CRI 2026-3",
    )
    # 100 of the 470 to part 1 (still owed to the victims), 470 - 100 = 370 to the Trésor.
    assert contrepartie(evasion, Contrepartie.TRESOR) == D("370.00")
    assert parts(compte) == (D("190.00"), D("40.00"), D("0.00"))
    with pytest.raises(OperationInterdite, match="évadée le 10/06/2026"):
        recette(compte, "10.00", regisseur)
    with pytest.raises(OperationInterdite, match="reprise"):
        services.retablir_apres_evasion(
            compte=compte, montant=D("10.00"), decision_disp="DISP", auteur=regisseur, source="r0"
        )
    services.constater_reprise(
        detenu=detenu, date_reprise=datetime.date(2026, 6, 20), auteur=regisseur, reference="PV"
    )
    services.retablir_apres_evasion(
        compte=compte,
        montant=D("200.00"),
        decision_disp="DISP Paris 2026-88",
        auteur=regisseur,
        source=source(),
    )
    # 370 - 200 = 170 still restorable.
    with pytest.raises(SoldeInsuffisant, match="170,00 € rétablissables"):
        services.retablir_apres_evasion(
            compte=compte,
            montant=D("170.01"),
            decision_disp="DISP Paris 2026-89",
            auteur=regisseur,
            source=source(),
        )
    assert parts(compte) == (D("190.00"), D("40.00"), D("200.00"))
    recette(compte, "10.00", regisseur)  # the account is active again
    assert ecarts(compte) == []


def test_evasion_sans_victime_et_tresor_apres_un_an(etablissement, regisseur):
    detenu = DetenuFactory(etablissement=etablissement, victimes_indemnisees_ou_absentes=True)
    compte = detenu.compte
    recette(compte, "600.00", regisseur)  # 90 / 40 / 470
    with pytest.raises(OperationInterdite, match="reste dû doit être nul"):
        services.constater_evasion(
            detenu=detenu,
            date_evasion=JUIN,
            reste_du_parties_civiles=D("1.00"),
            auteur=regisseur,
            reference="CRI",
        )
    evasion = services.constater_evasion(
        detenu=detenu,
        date_evasion=JUIN,
        reste_du_parties_civiles=0,
        auteur=regisseur,
        reference="CRI",
    )
    assert contrepartie(evasion, Contrepartie.TRESOR) == D("470.00")
    with pytest.raises(OperationInterdite, match="à partir du 10/06/2027"):
        services.verser_au_tresor_apres_evasion(
            compte=compte,
            auteur=regisseur,
            source=source(),
            date_operation=datetime.date(2027, 6, 9),
        )
    tresor = services.verser_au_tresor_apres_evasion(
        compte=compte, auteur=regisseur, source=source(), date_operation=datetime.date(2027, 6, 10)
    )
    # Every part, read literally: 90 + 40.
    assert contrepartie(tresor, Contrepartie.TRESOR) == D("130.00")
    assert parts(compte) == (D("0.00"), D("0.00"), D("0.00"))


# --- Contrainte judiciaire (D. 332-23) --------------------------------------------------


def test_contrainte_judiciaire_pecule_puis_parties_civiles(etablissement, regisseur, chef):
    detenu = DetenuFactory(etablissement=etablissement)
    compte = detenu.compte
    recette(compte, "600.00", regisseur)  # 90 / 40 / 470
    services.placer_sous_contrainte_judiciaire(
        detenu=detenu,
        date_debut=JUIN,
        montant_dette=D("100.00"),
        reference="Réquisition 2026/5",
        auteur=regisseur,
    )
    # 1°: the victims are not fully compensated -> refused.
    with pytest.raises(OperationInterdite, match=r"D\. 332-23, 1°"):
        services.payer_dette_contrainte_judiciaire(
            compte=compte, montant=D("100.00"), auteur=chef, source=source(), piece="Demande"
        )
    Detenu.objects.filter(pk=detenu.pk).update(victimes_indemnisees_ou_absentes=True)
    with pytest.raises(DroitsInsuffisants):
        services.payer_dette_contrainte_judiciaire(
            compte=compte, montant=D("100.00"), auteur=regisseur, source=source(), piece="D"
        )
    paiement = services.payer_dette_contrainte_judiciaire(
        compte=compte, montant=D("100.00"), auteur=chef, source=source(), piece="Demande écrite"
    )
    # The pécule first (40), then part 1 (100 - 40 = 60 of 90): 30 / 0 / 470.
    assert contrepartie(paiement, Contrepartie.TRESOR) == D("100.00")
    assert parts(compte) == (D("30.00"), D("0.00"), D("470.00"))
    assert services.dette_contrainte_restante(compte) == D("0.00")
    with pytest.raises(OperationInterdite, match="dette restante"):
        services.payer_dette_contrainte_judiciaire(
            compte=compte, montant=D("0.01"), auteur=chef, source=source(), piece="D"
        )
    # 2°: a maintenance creditor with an enforceable title stops it.
    Detenu.objects.filter(pk=detenu.pk).update(creance_alimentaire_executoire=True)
    # The Trésor is paid by an order: refusing it puts the money back where it came from.
    ordre = paiement.ordres_virement.get()
    assert (ordre.montant, ordre.partie) == (D("100.00"), "")
    services.refuser_ordre(
        ordre=ordre, auteur=agent("Chef d'établissement", etablissement), motif="erreur"
    )
    assert parts(compte) == (D("90.00"), D("40.00"), D("470.00"))
    with pytest.raises(OperationInterdite, match=r"D\. 332-23, 2°"):
        services.payer_dette_contrainte_judiciaire(
            compte=compte, montant=D("1.00"), auteur=chef, source=source(), piece="D"
        )
    services.lever_contrainte_judiciaire(
        detenu=detenu, date_fin=JUIN, auteur=regisseur, reference="Fin"
    )
    detenu.refresh_from_db()
    assert detenu.contrainte_judiciaire_depuis is None


# --- JAP particular prescriptions (D. 424-1) --------------------------------------------


@pytest.mark.parametrize(
    ("prescription", "attendu_p1"),
    [
        # P1(500) = 20 % x 200 + 25 % x 100 = 65; half of it: 32.50.
        ({"type_prescription": TypePrescriptionJap.PROPORTION, "proportion": D("50")}, "32.50"),
        # 65 capped at 50 a month.
        (
            {"type_prescription": TypePrescriptionJap.PLAFOND_MENSUEL, "plafond_mensuel": "50"},
            "50.00",
        ),
        ({"type_prescription": TypePrescriptionJap.DISPENSE_TOTALE}, "0.00"),
    ],
)
def test_prescription_du_jap_partielle(etablissement, regisseur, prescription, attendu_p1):
    detenu = DetenuFactory(etablissement=etablissement, regime=Regime.SURVEILLANCE_ELECTRONIQUE)
    services.enregistrer_prescription_jap(
        detenu=detenu,
        reference="JAP Créteil 2026/9",
        date_decision=JUIN,
        debut=datetime.date(2026, 6, 1),
        auteur=regisseur,
        **prescription,
    )
    recette(detenu.compte, "500.00", regisseur)
    # No pécule under PSE (D. 424-1): the PD gets the rest of the 500.
    assert parts(detenu.compte) == (D(attendu_p1), D("0.00"), D("500.00") - D(attendu_p1))


def test_prescription_proportion_independante_du_decoupage(etablissement, regisseur):
    un = DetenuFactory(etablissement=etablissement, regime=Regime.SEMI_LIBERTE)
    deux = DetenuFactory(etablissement=etablissement, regime=Regime.SEMI_LIBERTE)
    for detenu in (un, deux):
        services.enregistrer_prescription_jap(
            detenu=detenu,
            type_prescription=TypePrescriptionJap.PROPORTION,
            proportion=D("33.33"),
            reference="JAP",
            date_decision=JUIN,
            debut=JUIN,
            auteur=regisseur,
        )
    recette(un.compte, "650.00", regisseur)
    for montant in ("250.00", "150.00", "250.00"):
        recette(deux.compte, montant, regisseur)
    # P1(650) = 40 + 50 + 30 % x 50 = 105; 33.33 % of it = 34.9965 -> 35.00 in both cases.
    assert parts(un.compte)[0] == parts(deux.compte)[0] == D("35.00")


def test_prescription_hors_periode_ou_regime_ordinaire(etablissement, regisseur):
    ordinaire = DetenuFactory(etablissement=etablissement)
    services.enregistrer_prescription_jap(
        detenu=ordinaire,
        type_prescription=TypePrescriptionJap.DISPENSE_TOTALE,
        reference="JAP",
        date_decision=JUIN,
        debut=JUIN,
        auteur=regisseur,
    )
    recette(ordinaire.compte, "500.00", regisseur)
    # Ordinary detention: D. 424-1 does not apply, the levy is whole: 65 / 30 / 405.
    assert parts(ordinaire.compte) == (D("65.00"), D("30.00"), D("405.00"))
    with pytest.raises(OperationInterdite, match="entre 0 et 100"):
        services.enregistrer_prescription_jap(
            detenu=ordinaire,
            type_prescription=TypePrescriptionJap.PROPORTION,
            proportion=D("100"),
            reference="JAP",
            date_decision=JUIN,
            debut=JUIN,
            auteur=regisseur,
        )
