"""Corrections (issue 12, items 3 and 4; spec 01 section 9): a reversal restores the month,
every movement has an exact inverse, a part that no longer holds the money refuses the
reversal with the amounts.

Every expected amount is derived by hand in a comment from D. 332-12 (20 % of the month's
total between 200 and 400 €, 25 % between 400 and 600 €, 30 % above), D. 332-13 (10 % above
the 200 € allowance) and D. 332-15 (200 € allowance, 400 € in December)."""

import datetime
from decimal import Decimal as D

import pytest

from regie import services
from regie.exceptions import EcritureDejaPassee, OperationInterdite, SoldeInsuffisant
from regie.models import (
    ActionD422,
    ChoixReliquat,
    CompteNominatif,
    CompteurMensuel,
    Contrepartie,
    Ecriture,
    LigneEcriture,
    NatureEcriture,
    Partie,
    Regime,
    StatutD422,
    StatutPenal,
    StatutPermission,
)
from regie.selectors import ecarts
from regie.services.ecritures import Ligne, _passer, _verrouiller
from tests.factories import (
    IBAN_FOURNISSEUR,
    IBAN_PROCHE,
    DetenuFactory,
    EtablissementFactory,
    agent,
)

pytestmark = pytest.mark.django_db

MAI = datetime.date(2026, 5, 12)
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


def parts(compte):
    compte.refresh_from_db()
    return compte.parties_civiles, compte.pecule_liberation, compte.part_disponible


def cumul(compte, jour=JUIN):
    compteur = CompteurMensuel.objects.filter(
        compte=compte, annee=jour.year, mois=jour.month
    ).first()
    return compteur.cumul if compteur else D("0.00")


def recette(compte, montant, auteur, jour=JUIN, nature=NatureEcriture.SUBSIDE_PROCHE):
    return services.encaisser_recette(
        compte=compte,
        montant=D(montant),
        nature=nature,
        source=f"test:{next(_numero)}",
        motif="recette de test",
        auteur=auteur,
        date_operation=jour,
    )


def debit(compte, montant, auteur, nature=NatureEcriture.CANTINE):
    return services.debiter_part_disponible(
        compte=compte,
        montant=D(montant),
        nature=nature,
        source=f"test:{next(_numero)}",
        motif="débit de test",
        auteur=auteur,
        date_operation=JUIN,
    )


def variations(ecriture):
    v = dict.fromkeys(
        (Partie.PARTIES_CIVILES, Partie.PECULE_LIBERATION, Partie.PART_DISPONIBLE), D("0.00")
    )
    for ligne in ecriture.lignes.exclude(partie=Partie.CONTREPARTIE):
        v[ligne.partie] += ligne.montant
    return v[Partie.PARTIES_CIVILES], v[Partie.PECULE_LIBERATION], v[Partie.PART_DISPONIBLE]


# --- Item 3: a reversal restores the month --------------------------------------------


def test_l_exemple_de_la_specification_300_en_erreur_puis_100(etablissement, regisseur):
    compte = DetenuFactory(etablissement=etablissement).compte
    erreur = recette(compte, "300.00", regisseur)
    # T 0 -> 300: part 1 20 % x (300 - 200) = 20, pécule 10 % x 100 = 10, PD 270.
    assert parts(compte) == (D("20.00"), D("10.00"), D("270.00"))
    recette(compte, "100.00", regisseur)
    # T 300 -> 400: part 1 20 % x 100 = 20, pécule 10, PD 70; totals 40 / 20 / 340.
    assert parts(compte) == (D("40.00"), D("20.00"), D("340.00"))
    inverse = services.contrepasser(ecriture=erreur, motif="Saisie erronée", auteur=regisseur)
    # T = 400, m = 300: part 1 P1(400) - P1(100) = 40 - 0, pécule PL(400) - PL(100) =
    # 20 - 0, PD 300 - 40 - 20 = 240 (spec 01 section 9: « takes back 40 / 20 / 240 »).
    assert variations(inverse) == (D("-40.00"), D("-20.00"), D("-240.00"))
    # The month ends as if only the 100 had been received: 0 / 0 / 100.
    assert parts(compte) == (D("0.00"), D("0.00"), D("100.00"))
    assert cumul(compte) == D("100.00")
    assert inverse.montant_soumis == D("-300.00")
    assert inverse.mois_repartition == datetime.date(2026, 6, 1)
    assert all(
        ligne.issue_repartition for ligne in inverse.lignes.exclude(partie=Partie.CONTREPARTIE)
    )
    assert ecarts(compte) == []


def test_la_contrepassation_s_impute_sur_le_mois_d_origine(etablissement, regisseur):
    compte = DetenuFactory(etablissement=etablissement).compte
    erreur = recette(compte, "300.00", regisseur, jour=MAI)  # May: 20 / 10 / 270
    recette(compte, "300.00", regisseur, jour=JUIN)  # June: 20 / 10 / 270
    services.contrepasser(ecriture=erreur, motif="erreur", auteur=regisseur)
    # May's counter only: T(May) = 300, m = 300 -> 20 / 10 / 270 back; June untouched.
    assert parts(compte) == (D("20.00"), D("10.00"), D("270.00"))
    assert cumul(compte, MAI) == D("0.00")
    assert cumul(compte, JUIN) == D("300.00")


def test_plafond_des_parties_civiles_jamais_plus_que_ce_que_le_mois_a_verse(
    etablissement, regisseur
):
    detenu = DetenuFactory(etablissement=etablissement, statut_penal=StatutPenal.CONDAMNE)
    compte = detenu.compte
    # January, ceiling conditions not met yet. 600 at T0 = 0: part 1 20 % x 200 + 25 % x
    # 200 = 90. Then 2 900 at T0 = 600: part 1 30 % x 2 900 = 870 -> part 1 holds 960.
    recette(compte, "600.00", regisseur, jour=datetime.date(2026, 1, 15))
    recette(compte, "2900.00", regisseur, jour=datetime.date(2026, 1, 16))
    assert parts(compte)[0] == D("960.00")
    detenu.victimes_indemnisees_ou_absentes = True
    detenu.save()
    # June, ceiling conditions met, part 1 at 960 (room 40).
    premier = recette(compte, "300.00", regisseur)
    # T 0 -> 300: levy 20 % x 100 = 20 <= room 40 -> part 1 20, pécule 10, PD 270.
    assert variations(premier) == (D("20.00"), D("10.00"), D("270.00"))
    second = recette(compte, "300.00", regisseur)
    # T 300 -> 600: levy P1(600) - P1(300) = 90 - 20 = 70, room 1000 - 980 = 20 -> 20;
    # pécule PL(600) - PL(300) = 40 - 10 = 30; PD 300 - 20 - 30 = 250.
    assert variations(second) == (D("20.00"), D("30.00"), D("250.00"))
    inverse = services.contrepasser(ecriture=premier, motif="erreur", auteur=regisseur)
    # T = 600, m = 300. The bands give part 1 P1(600) - P1(300) = 70, but June's
    # répartitions put only 20 + 20 = 40 into part 1: 40 is taken back, never more. The
    # pécule PL(600) - PL(300) = 30 (June put 40 there); PD 300 - 40 - 30 = 230 (June put
    # 520). Part 1 is back to 960, under the ceiling: the next receipts refill it to
    # 1 000 (the rule written in docs/regles-metier.md).
    assert variations(inverse) == (D("-40.00"), D("-30.00"), D("-230.00"))
    assert parts(compte)[0] == D("960.00")
    assert cumul(compte) == D("300.00")
    assert ecarts(compte) == []


def test_regime_sans_pecule_et_dispense_du_jap(etablissement, regisseur):
    pse = DetenuFactory(etablissement=etablissement, regime=Regime.SURVEILLANCE_ELECTRONIQUE)
    erreur = recette(pse.compte, "500.00", regisseur)
    # Example 18: 65 / 0 / 435.
    inverse = services.contrepasser(ecriture=erreur, motif="erreur", auteur=regisseur)
    # T = 500, m = 500: part 1 P1(500) - P1(0) = 40 + 25 = 65; the bands give the pécule
    # 30 but the month put 0 there -> 0; PD 500 - 65 = 435: the exact inverse.
    assert variations(inverse) == (D("-65.00"), D("0.00"), D("-435.00"))
    assert parts(pse.compte) == (D("0.00"), D("0.00"), D("0.00"))

    dispense = DetenuFactory(
        etablissement=etablissement,
        regime=Regime.SEMI_LIBERTE,
        decision_jap_sans_parties_civiles="JAP 2026/1",
    )
    erreur = recette(dispense.compte, "500.00", regisseur)  # 0 / 0 / 500
    inverse = services.contrepasser(ecriture=erreur, motif="erreur", auteur=regisseur)
    assert variations(inverse) == (D("0.00"), D("0.00"), D("-500.00"))


def test_deja_contrepassee(etablissement, regisseur):
    compte = DetenuFactory(etablissement=etablissement).compte
    erreur = recette(compte, "50.00", regisseur)
    premiere = services.contrepasser(ecriture=erreur, motif="erreur", auteur=regisseur)
    with pytest.raises(EcritureDejaPassee) as exc:
        services.contrepasser(ecriture=erreur, motif="encore", auteur=regisseur)
    assert exc.value.details["ecriture"] == premiere
    with pytest.raises(OperationInterdite, match="enregistrez à nouveau"):
        services.contrepasser(ecriture=premiere, motif="annuler l'annulation", auteur=regisseur)


# --- Item 4: every movement has an exact inverse ----------------------------------------


def test_retour_de_permission_1200_saisi_pour_120(etablissement, regisseur, chef):
    compte = DetenuFactory(etablissement=etablissement).compte
    recette(compte, "100.00", regisseur, jour=MAI)  # May: 100 to the PD
    recette(compte, "30.00", regisseur)  # June: T = 30, all to the PD -> PD 130
    permission = services.fixer_permission_sortie(
        compte=compte, montant=D("80.00"), date_sortie=JUIN, auteur=chef
    )
    services.remettre_somme_permission(permission=permission, auteur=regisseur, date_operation=JUIN)
    assert parts(compte) == (D("0.00"), D("0.00"), D("50.00"))
    erreur = services.enregistrer_retour_permission(
        permission=permission, montant_rapporte=D("1200.00"), auteur=regisseur, date_operation=JUIN
    )
    # 80 back unsplit; the 1 120 excess split at T0 = 30, T1 = 1 150: part 1 20 % x 200 +
    # 25 % x 200 + 30 % x 550 = 40 + 50 + 165 = 255; pécule 10 % x 950 = 95; its PD share
    # 1 120 - 255 - 95 = 770 (the issue's « 255 € in part 1 and 95 € in the pécule »).
    assert parts(compte) == (D("255.00"), D("95.00"), D("900.00"))
    assert cumul(compte) == D("1150.00")
    inverse = services.contrepasser(ecriture=erreur, motif="1 200 saisi pour 120", auteur=regisseur)
    # The 80 unsplit back from the PD; the excess as a negative receipt of June: T =
    # 1 150, m = 1 120: P1(1150) - P1(30) = 255, PL(1150) - PL(30) = 95, PD 770.
    assert variations(inverse) == (D("-255.00"), D("-95.00"), D("-850.00"))
    assert parts(compte) == (D("0.00"), D("0.00"), D("50.00"))
    assert cumul(compte) == D("30.00")
    permission.refresh_from_db()
    assert permission.statut == StatutPermission.REMISE
    assert permission.montant_rapporte is None and permission.ecriture_retour is None
    # The right return can now be recorded: 80 unsplit, 40 excess at T0 = 30 (T1 = 70,
    # under the 200 € allowance): all to the PD -> 50 + 120 = 170.
    bon = services.enregistrer_retour_permission(
        permission=permission, montant_rapporte=D("120.00"), auteur=regisseur, date_operation=JUIN
    )
    assert bon.source == f"permission:{permission.pk}:retour:2"
    assert parts(compte) == (D("0.00"), D("0.00"), D("170.00"))
    assert cumul(compte) == D("70.00")
    assert ecarts(compte) == []


def test_remise_de_permission_contrepassee(etablissement, regisseur, chef):
    compte = DetenuFactory(etablissement=etablissement).compte
    recette(compte, "100.00", regisseur)
    permission = services.fixer_permission_sortie(
        compte=compte, montant=D("60.00"), date_sortie=JUIN, auteur=chef
    )
    remise = services.remettre_somme_permission(permission=permission, auteur=regisseur)
    services.contrepasser(ecriture=remise, motif="permission annulée", auteur=regisseur)
    permission.refresh_from_db()
    assert permission.statut == StatutPermission.FIXEE and permission.ecriture_remise is None
    assert parts(compte)[2] == D("100.00")


def _d422(detenu, regisseur, chef, montant="300.00"):
    autorisation = services.demander_d422(
        detenu=detenu,
        montant=D(montant),
        objet="Prothèse auditive",
        emetteur_attendu="Sa sœur",
        reliquat=ChoixReliquat.REPARTIR,
        date_demande=JUIN,
        auteur=regisseur,
    )
    return services.decider_d422(
        autorisation=autorisation, accorder=True, motif="Justifié", auteur=chef
    )


def test_d422_subside_depense_et_reliquat_ont_chacun_leur_inverse(etablissement, regisseur, chef):
    detenu = DetenuFactory(etablissement=etablissement)
    compte = detenu.compte
    autorisation = _d422(detenu, regisseur, chef)
    subside = services.encaisser_subside_d422(
        autorisation=autorisation,
        montant=D("550.00"),
        source="d1",
        motif="virement",
        auteur=regisseur,
        date_operation=JUIN,
    )
    # 300 blocked unsplit; 250 excess split at T0 = 0: 20 % x 50 = 10 / 10 % x 50 = 5 / 235.
    depense = services.payer_depense_d422(
        autorisation=autorisation,
        montant=D("260.00"),
        source="p1",
        motif="Facture",
        auteur=regisseur,
        date_operation=JUIN,
        fournisseur="Prothèses",
        iban=IBAN_FOURNISSEUR,
    )
    reliquat = services.cloturer_d422(
        autorisation=autorisation, auteur=regisseur, date_operation=JUIN
    )
    # Remainder 40 split at T0 = 250: T1 = 290, part 1 20 % x 40 = 8, pécule 4, PD 28.
    assert variations(reliquat) == (D("8.00"), D("4.00"), D("-40.00") + D("28.00"))
    assert parts(compte) == (D("18.00"), D("9.00"), D("263.00"))
    assert cumul(compte) == D("290.00")

    # The remainder's inverse: 40 blocked again; the split taken back in June, T = 290,
    # m = 40: P1(290) - P1(250) = 18 - 10 = 8, PL 9 - 5 = 4, PD 28.
    inverse = services.contrepasser(ecriture=reliquat, motif="clôture prématurée", auteur=regisseur)
    assert variations(inverse) == (D("-8.00"), D("-4.00"), D("40.00") - D("28.00"))
    compte.refresh_from_db()
    autorisation.refresh_from_db()
    assert compte.part_disponible_bloquee == D("40.00")
    assert autorisation.statut == StatutD422.AUTORISEE  # closed again later
    assert cumul(compte) == D("250.00")

    # The expense's inverse: paid by a payment order still on its way, it cannot be
    # reversed (the money may be leaving); refusing the order brings the 260 back, blocked.
    with pytest.raises(OperationInterdite, match="doit être refusé"):
        services.contrepasser(ecriture=depense, motif="facture annulée", auteur=regisseur)
    services.refuser_ordre(
        ordre=depense.ordres_virement.get(), auteur=chef, motif="facture annulée"
    )
    compte.refresh_from_db()
    assert compte.part_disponible_bloquee == D("300.00")
    assert parts(compte) == (D("10.00"), D("5.00"), D("535.00"))

    # The subsidy's inverse: unblocks and removes the 300; the 250 excess as a negative
    # receipt: T = 250, m = 250: 10 / 5 / 235. Nothing is left, nothing is received.
    services.contrepasser(ecriture=subside, motif="mauvais émetteur", auteur=regisseur)
    compte.refresh_from_db()
    assert parts(compte) == (D("0.00"), D("0.00"), D("0.00"))
    assert compte.part_disponible_bloquee == D("0.00")
    assert cumul(compte) == D("0.00")
    assert services.montant_recu_d422(autorisation) == D("0.00")
    actions = list(autorisation.evenements.values_list("action", flat=True))
    assert actions.count(ActionD422.CONTREPASSATION) == 2  # the expense: its order refused
    assert ActionD422.REOUVERTURE in actions
    # It can be closed again (a new remainder source).
    assert services.cloturer_d422(autorisation=autorisation, auteur=regisseur) is None
    assert ecarts(compte) == []


def test_contrepassation_refusee_avec_les_montants(etablissement, regisseur):
    compte = DetenuFactory(etablissement=etablissement).compte
    erreur = recette(compte, "100.00", regisseur)
    debit(compte, "60.00", regisseur)
    with pytest.raises(SoldeInsuffisant) as exc:
        services.contrepasser(ecriture=erreur, motif="erreur", auteur=regisseur)
    assert str(exc.value) == (
        f"La correction de l'écriture n° {erreur.pk} reprend 100,00 € sur la part disponible "
        "non bloquée, qui ne contient plus que 40,00 €. Enregistrez une correction motivée."
    )
    assert exc.value.details["a_reprendre"] == D("100.00")
    assert Ecriture.objects.filter(nature=NatureEcriture.CONTREPASSATION).count() == 0

    autre = DetenuFactory(etablissement=etablissement).compte
    erreur = recette(autre, "600.00", regisseur)  # 90 / 40 / 470
    services.payer_parties_civiles(
        compte=autre,
        montant=D("50.00"),
        beneficiaire="Mme V.",
        iban=IBAN_PROCHE,
        source="v1",
        motif="réquisition",
        auteur=regisseur,
    )
    with pytest.raises(
        SoldeInsuffisant,
        match="reprend 90,00 € sur la part des parties civiles, qui ne contient plus que 40,00 €",
    ):
        services.contrepasser(ecriture=erreur, motif="erreur", auteur=regisseur)


def test_liberation_contrepassee(etablissement, regisseur):
    detenu = DetenuFactory(etablissement=etablissement)
    recette(detenu.compte, "600.00", regisseur)  # 90 / 40 / 470
    # 90 € of part 1, at most 500 €: handed over with the rest, in cash (no order).
    liberation = services.liquider_a_la_liberation(
        compte=detenu.compte, auteur=regisseur, date_liberation=JUIN
    )
    assert parts(detenu.compte) == (D("0.00"), D("0.00"), D("0.00"))
    services.contrepasser(ecriture=liberation, motif="libération annulée", auteur=regisseur)
    detenu.refresh_from_db()
    assert detenu.libere_le is None
    assert parts(detenu.compte) == (D("90.00"), D("40.00"), D("470.00"))
    assert CompteNominatif.objects.get(pk=detenu.compte.pk).cloture_le is None


def test_transfert_se_corrige_par_un_transfert_en_retour(etablissement, regisseur):
    detenu = DetenuFactory(etablissement=etablissement)
    recette(detenu.compte, "100.00", regisseur)
    sortie, _entree = services.transferer_detenu(
        detenu=detenu, vers=EtablissementFactory(), nouveau_numero_ecrou="X1", auteur=regisseur
    )
    superuser = agent("Régisseur")
    superuser.is_superuser = True
    superuser.save()
    with pytest.raises(OperationInterdite, match="transfert en retour"):
        services.contrepasser(ecriture=sortie, motif="erreur", auteur=superuser)


def _payee_par_la_banque(ecriture, regisseur, chef):
    """The entry's payment order validated, batched, transmitted and executed."""
    ordre = services.valider_ordre(ordre=ecriture.ordres_virement.get(), auteur=chef)
    remise = services.constituer_remise(etablissement=ordre.etablissement, auteur=regisseur)
    services.transmettre_remise(remise=remise, auteur=regisseur)
    services.constater_execution(ordre=ordre, date_execution=JUIN, auteur_systeme="banque")


def test_remboursements_vers_la_part_d_origine(etablissement, regisseur, chef):
    detenu = DetenuFactory(etablissement=etablissement)
    compte = detenu.compte
    autorisation = _d422(detenu, regisseur, chef)
    services.encaisser_subside_d422(
        autorisation=autorisation, montant=D("300.00"), source="d", motif="v", auteur=regisseur
    )
    depense = services.payer_depense_d422(
        autorisation=autorisation,
        montant=D("280.00"),
        source="p",
        motif="f",
        auteur=regisseur,
        fournisseur="Opticien",
        iban=IBAN_FOURNISSEUR,
    )
    # A refund is money that came back after the bank paid: the order is executed.
    _payee_par_la_banque(depense, regisseur, chef)
    # The 20 remainder split in June at T0 = 0: all to the PD.
    services.cloturer_d422(autorisation=autorisation, auteur=regisseur, date_operation=JUIN)
    # The supplier refunds 30 of the expense: back blocked, the authorisation in progress.
    services.rembourser(
        ecriture=depense, montant=D("30.00"), source="r", motif="avoir", auteur=regisseur
    )
    compte.refresh_from_db()
    autorisation.refresh_from_db()
    assert compte.part_disponible_bloquee == D("30.00")
    assert autorisation.statut == StatutD422.AUTORISEE
    # A victim sends back an overpayment: to part 1.
    # The remainder 20 was split at T0 = 0 (all to the PD). 600 at T0 = 20, T1 = 620:
    # part 1 P1(620) = 20 % x 200 + 25 % x 200 + 30 % x 20 = 96.
    recette(compte, "600.00", regisseur)
    assert parts(compte)[0] == D("96.00")
    paiement = services.payer_parties_civiles(
        compte=compte,
        montant=D("50.00"),
        beneficiaire="M. V.",
        iban=IBAN_PROCHE,
        source="pv",
        motif="réquisition",
        auteur=regisseur,
    )
    _payee_par_la_banque(paiement, regisseur, chef)
    avant = parts(compte)[0]
    remboursement = services.rembourser(
        ecriture=paiement, montant=D("20.00"), source="rv", motif="trop-perçu", auteur=regisseur
    )
    assert parts(compte)[0] == avant + D("20.00")
    assert remboursement.lignes.get(partie=Partie.CONTREPARTIE).contrepartie == (
        Contrepartie.PARTIES_CIVILES
    )
    # A reversed refund no longer counts: 50 refundable again after reversing the 20.
    services.contrepasser(ecriture=remboursement, motif="erreur", auteur=regisseur)
    services.rembourser(
        ecriture=paiement, montant=D("50.00"), source="rv2", motif="trop-perçu", auteur=regisseur
    )
    assert ecarts(compte) == []


def test_lignes_d_avant_la_colonne_lues_comme_les_ecrivait_l_ancien_code(
    etablissement, regisseur, chef
):
    """An entry booked before migration 0006 has no `issue_repartition`: a permission
    return wrote [PD restitution, P1, PL, PD split, counterpart]."""
    compte = DetenuFactory(etablissement=etablissement).compte
    recette(compte, "600.00", regisseur)  # T = 600: 90 / 40 / 470
    verrouille = _verrouiller(compte.pk)
    # As the former code booked « 80 handed out, 120 brought back at T0 = 600 »: 80
    # unsplit; the 40 excess 30 % = 12 / 10 % = 4 / 24 (example 20), all lines unflagged.
    ancienne = _passer(
        verrouille,
        nature=NatureEcriture.PERMISSION_RETOUR,
        source="ancienne",
        motif="retour",
        lignes=[
            Ligne(Partie.PART_DISPONIBLE, D("80.00")),
            Ligne(Partie.PARTIES_CIVILES, D("12.00")),
            Ligne(Partie.PECULE_LIBERATION, D("4.00")),
            Ligne(Partie.PART_DISPONIBLE, D("24.00")),
            Ligne(Partie.CONTREPARTIE, D("-120.00"), Contrepartie.DETENU),
        ],
        auteur=regisseur,
        auteur_systeme="",
        date_operation=JUIN,
        montant_soumis=D("40.00"),
        mois_repartition=datetime.date(2026, 6, 1),
    )
    assert not LigneEcriture.objects.filter(ecriture=ancienne, issue_repartition=True).exists()
    inverse = services.contrepasser(ecriture=ancienne, motif="erreur", auteur=regisseur)
    # 80 mirrored; T = 640, m = 40: P1(640) - P1(600) = 12, PL 4, PD 24 -> 104 from the PD.
    assert variations(inverse) == (D("-12.00"), D("-4.00"), D("-104.00"))
    assert parts(compte) == (D("90.00"), D("40.00"), D("470.00"))
    assert ecarts(compte) == []


def test_un_retour_nul_se_corrige_en_enregistrant_le_retour_a_nouveau(
    etablissement, regisseur, chef
):
    compte = DetenuFactory(etablissement=etablissement).compte
    recette(compte, "100.00", regisseur)
    permission = services.fixer_permission_sortie(
        compte=compte, montant=D("60.00"), date_sortie=JUIN, auteur=chef
    )
    services.remettre_somme_permission(permission=permission, auteur=regisseur, date_operation=JUIN)
    # « 0 » typed for 60: nothing is booked, so nothing can be reversed...
    assert (
        services.enregistrer_retour_permission(
            permission=permission, montant_rapporte=0, auteur=regisseur, date_operation=JUIN
        )
        is None
    )
    # ...and the return is recorded again: 60 back unsplit, 40 + 60 = 100.
    services.enregistrer_retour_permission(
        permission=permission, montant_rapporte=D("60.00"), auteur=regisseur, date_operation=JUIN
    )
    assert parts(compte)[2] == D("100.00")
    with pytest.raises(OperationInterdite, match="après la remise"):
        services.enregistrer_retour_permission(
            permission=permission, montant_rapporte=D("1.00"), auteur=regisseur
        )
