"""The movement services: the spec's worked examples through the full service path,
bad input, D.422, transfers, release, corrections, caps."""

import datetime
from decimal import Decimal as D

import pytest
from django.db import IntegrityError, connection, transaction

from regie import services
from regie.exceptions import (
    CoordonneesBancairesInvalides,
    DecisionDejaPrise,
    DroitsInsuffisants,
    EcritureDejaPassee,
    MontantInvalide,
    OperationInterdite,
    PlafondDepasse,
    SoldeInsuffisant,
    SubsidesInterdits,
)
from regie.models import (
    ChoixReliquat,
    CompteNominatif,
    CompteurMensuel,
    Contrepartie,
    DecisionMagistrat,
    Ecriture,
    LigneEcriture,
    NatureEcriture,
    NatureOrdre,
    Partie,
    Regime,
    StatutD422,
    StatutPenal,
)
from regie.selectors import cumul_recalcule, ecarts, soldes_recalcules
from tests.factories import (
    IBAN_FOURNISSEUR,
    IBAN_PROCHE,
    DetenuFactory,
    EtablissementFactory,
    agent,
)

pytestmark = pytest.mark.django_db

JUIN = datetime.date(2026, 6, 10)
DECEMBRE = datetime.date(2026, 12, 3)


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


_compteur = iter(range(10**9))


def recette(compte, montant, auteur, jour=JUIN, nature=NatureEcriture.SUBSIDE_PROCHE, **kw):
    return services.encaisser_recette(
        compte=compte,
        montant=D(montant),
        nature=nature,
        source=f"test:{next(_compteur)}",
        motif="recette de test",
        auteur=auteur,
        date_operation=jour,
        **kw,
    )


# --- Worked examples of section 7, through the services --------------------------------


@pytest.mark.parametrize(
    ("montant", "attendu"),
    [
        ("150.00", ("0.00", "0.00", "150.00")),
        ("200.05", ("0.01", "0.01", "200.03")),
        ("250.00", ("10.00", "5.00", "235.00")),
        ("600.00", ("90.00", "40.00", "470.00")),
    ],
)
def test_recette_soumise_repartie(etablissement, regisseur, montant, attendu):
    compte = DetenuFactory(etablissement=etablissement).compte
    ecriture = recette(compte, montant, regisseur)
    assert parts(compte) == tuple(D(x) for x in attendu)
    assert ecriture.montant == D(montant) == ecriture.montant_soumis
    contrepartie = ecriture.lignes.get(partie=Partie.CONTREPARTIE)
    assert contrepartie.montant == -D(montant)
    assert contrepartie.contrepartie == Contrepartie.ENCAISSEMENT
    assert ecarts(compte) == []


def test_exemple_10_11_cumul_du_mois(etablissement, regisseur):
    compte = DetenuFactory(etablissement=etablissement).compte
    recette(compte, "150.00", regisseur)
    recette(compte, "100.00", regisseur)  # example 10: T0 = 150
    assert parts(compte) == (D("10.00"), D("5.00"), D("235.00"))
    recette(compte, "100.00", regisseur)  # T0 = 250
    recette(compte, "100.00", regisseur)  # example 11: T0 = 350 -> 22.50 / 10 / 67.50
    assert CompteurMensuel.objects.get(compte=compte, annee=2026, mois=6).cumul == D("450.00")
    derniere = Ecriture.objects.filter(compte=compte).order_by("-pk").first()
    lignes = {ligne.partie: ligne.montant for ligne in derniere.lignes.all()}
    assert lignes[Partie.PARTIES_CIVILES] == D("22.50")
    assert lignes[Partie.PECULE_LIBERATION] == D("10.00")
    assert lignes[Partie.PART_DISPONIBLE] == D("67.50")


def test_exemple_12_salaire_puis_subside(etablissement, regisseur):
    compte = DetenuFactory(etablissement=etablissement).compte
    recette(compte, "300.00", regisseur, nature=NatureEcriture.SALAIRE)
    avant = parts(compte)
    recette(compte, "200.00", regisseur)
    apres = parts(compte)
    assert tuple(b - a for a, b in zip(avant, apres, strict=True)) == (
        D("45.00"),
        D("20.00"),
        D("135.00"),
    )


def test_exemple_13_nouveau_mois(etablissement, regisseur):
    compte = DetenuFactory(etablissement=etablissement).compte
    recette(compte, "600.00", regisseur, jour=datetime.date(2026, 5, 28))
    avant = parts(compte)
    recette(compte, "100.00", regisseur, jour=datetime.date(2026, 6, 1))
    apres = parts(compte)
    assert tuple(b - a for a, b in zip(avant, apres, strict=True)) == (D("0"), D("0"), D("100"))


def test_exemple_14_decembre(etablissement, regisseur):
    compte = DetenuFactory(etablissement=etablissement).compte
    recette(compte, "500.00", regisseur, jour=DECEMBRE)
    assert parts(compte) == (D("25.00"), D("10.00"), D("465.00"))


@pytest.mark.parametrize(
    ("solde_p1", "attendu_p1", "attendu_pd"),
    [("1000.00", "0.00", "470.00"), ("980.00", "20.00", "450.00")],
)
def test_exemples_15_16_plafond_parties_civiles(
    etablissement, regisseur, solde_p1, attendu_p1, attendu_pd
):
    detenu = DetenuFactory(
        etablissement=etablissement,
        statut_penal=StatutPenal.CONDAMNE,
        victimes_indemnisees_ou_absentes=True,
    )
    compte = detenu.compte
    # Part 1 reaches the balance through a real month of receipts (previous month).
    _amener_parties_civiles_a(compte, D(solde_p1), regisseur)
    avant = parts(compte)
    recette(compte, "500.00", regisseur)
    apres = parts(compte)
    assert apres[0] - avant[0] == D(attendu_p1)
    assert apres[1] - avant[1] == D("30.00")
    assert apres[2] - avant[2] == D(attendu_pd)


def _amener_parties_civiles_a(compte, cible, auteur):
    """Book receipts in January until part 1 holds exactly `cible` (ceiling not yet met
    because the detainee's flag is set after)."""
    detenu = compte.detenu
    drapeau = detenu.victimes_indemnisees_ou_absentes
    detenu.victimes_indemnisees_ou_absentes = False
    detenu.save()
    # 30 % above 600 €: each 100 € beyond 600 gives 30 € to part 1.
    jour = datetime.date(2026, 1, 15)
    recette(compte, "600.00", auteur, jour=jour)  # part 1: 90
    reste = cible - D("90.00")
    recette(compte, str((reste / D("0.30")).quantize(D("0.01"))), auteur, jour=jour)
    assert parts(compte)[0] == cible
    detenu.victimes_indemnisees_ou_absentes = drapeau
    detenu.save()


def test_exemple_17_prevenu_sans_plafond(etablissement, regisseur):
    detenu = DetenuFactory(
        etablissement=etablissement,
        statut_penal=StatutPenal.PREVENU,
        victimes_indemnisees_ou_absentes=True,
    )
    _amener_parties_civiles_a(detenu.compte, D("1000.00"), regisseur)
    avant = parts(detenu.compte)
    recette(detenu.compte, "500.00", regisseur)
    apres = parts(detenu.compte)
    assert apres[0] - avant[0] == D("65.00")


def test_exemple_18_pse_sans_pecule(etablissement, regisseur):
    compte = DetenuFactory(
        etablissement=etablissement, regime=Regime.SURVEILLANCE_ELECTRONIQUE
    ).compte
    recette(compte, "500.00", regisseur)
    assert parts(compte) == (D("65.00"), D("0.00"), D("435.00"))


def test_pse_dispense_du_jap(etablissement, regisseur):
    compte = DetenuFactory(
        etablissement=etablissement,
        regime=Regime.SEMI_LIBERTE,
        decision_jap_sans_parties_civiles="JAP Créteil 2026/123",
    ).compte
    recette(compte, "500.00", regisseur)
    assert parts(compte) == (D("0.00"), D("0.00"), D("500.00"))


def test_exemple_20_retour_de_permission(etablissement, regisseur, chef):
    compte = DetenuFactory(etablissement=etablissement).compte
    recette(compte, "600.00", regisseur)  # T0 = 600: 90 / 40 / 470
    permission = services.fixer_permission_sortie(
        compte=compte, montant=D("80.00"), date_sortie=JUIN, auteur=chef
    )
    services.remettre_somme_permission(permission=permission, auteur=regisseur, date_operation=JUIN)
    assert parts(compte) == (D("90.00"), D("40.00"), D("390.00"))
    ecriture = services.enregistrer_retour_permission(
        permission=permission, montant_rapporte=D("120.00"), auteur=regisseur, date_operation=JUIN
    )
    # 80 back unsplit, the 40 excess split at T0 = 600: 12 / 4 / 24 -> PD + 104.
    assert parts(compte) == (D("102.00"), D("44.00"), D("494.00"))
    assert ecriture.montant_soumis == D("40.00")
    assert CompteurMensuel.objects.get(compte=compte, mois=6).cumul == D("640.00")
    assert ecarts(compte) == []


def test_permission_refusee_si_part_disponible_insuffisante(etablissement, regisseur, chef):
    compte = DetenuFactory(etablissement=etablissement).compte
    recette(compte, "50.00", regisseur)
    with pytest.raises(SoldeInsuffisant, match="ne contient que 50,00"):
        services.fixer_permission_sortie(
            compte=compte, montant=D("80.00"), date_sortie=JUIN, auteur=chef
        )
    with pytest.raises(DroitsInsuffisants):
        services.fixer_permission_sortie(
            compte=compte, montant=D("10.00"), date_sortie=JUIN, auteur=regisseur
        )


# --- Bad input: a clear message, a precise exception, nothing written ----------------


@pytest.mark.parametrize(
    ("montant", "message"),
    [
        (D("0"), "strictement positif"),
        (D("-5.00"), "strictement positif"),
        (D("10.001"), "deux décimales"),
        (10.5, "nombre décimal"),
        ("abc", "pas un nombre valide"),
        (D("NaN"), "pas un nombre valide"),
    ],
)
def test_montant_invalide_rien_ecrit(etablissement, regisseur, montant, message):
    compte = DetenuFactory(etablissement=etablissement).compte
    with pytest.raises(MontantInvalide, match=message):
        services.encaisser_recette(
            compte=compte,
            montant=montant,
            nature=NatureEcriture.SALAIRE,
            source="x",
            motif="m",
            auteur=regisseur,
        )
    with pytest.raises(MontantInvalide):
        services.debiter_part_disponible(
            compte=compte,
            montant=montant,
            nature=NatureEcriture.CANTINE,
            source="y",
            motif="m",
            auteur=regisseur,
        )
    assert Ecriture.objects.count() == 0


def test_debit_au_dela_de_la_part_disponible(etablissement, regisseur):
    compte = DetenuFactory(etablissement=etablissement).compte
    recette(compte, "250.00", regisseur)
    with pytest.raises(SoldeInsuffisant, match="235,00 € disponibles") as erreur:
        services.debiter_part_disponible(
            compte=compte,
            montant=D("235.01"),
            nature=NatureEcriture.CANTINE,
            source="c1",
            motif="cantine",
            auteur=regisseur,
        )
    assert erreur.value.code == "solde_insuffisant"
    assert Ecriture.objects.filter(compte=compte).count() == 1
    services.debiter_part_disponible(
        compte=compte,
        montant=D("235.00"),
        nature=NatureEcriture.CANTINE,
        source="c2",
        motif="cantine",
        auteur=regisseur,
    )
    assert parts(compte) == (D("10.00"), D("5.00"), D("0.00"))


def test_meme_source_jamais_passee_deux_fois(etablissement, regisseur):
    compte = DetenuFactory(etablissement=etablissement).compte
    kwargs = dict(
        compte=compte,
        montant=D("50.00"),
        nature=NatureEcriture.SUBSIDE_PROCHE,
        source="virement:abc",
        motif="virement",
        auteur=regisseur,
    )
    premiere = services.encaisser_recette(**kwargs)
    with pytest.raises(EcritureDejaPassee) as erreur:
        services.encaisser_recette(**kwargs)
    assert erreur.value.details["ecriture"] == premiere
    assert parts(compte)[2] == D("50.00")


def test_regisseur_d_un_autre_etablissement_refuse(etablissement):
    compte = DetenuFactory(etablissement=etablissement).compte
    autre = agent("Régisseur", EtablissementFactory())
    with pytest.raises(DroitsInsuffisants, match="pas affecté"):
        recette(compte, "10.00", autre)
    assert Ecriture.objects.count() == 0


def test_chef_sans_droit_de_passer_des_ecritures(etablissement, chef):
    compte = DetenuFactory(etablissement=etablissement).compte
    with pytest.raises(DroitsInsuffisants, match="pas le droit"):
        recette(compte, "10.00", chef)


# --- D.422 -----------------------------------------------------------------------------


def _demande(detenu, auteur, montant="300.00", reliquat=ChoixReliquat.REPARTIR):
    return services.demander_d422(
        detenu=detenu,
        montant=D(montant),
        objet="Prothèse dentaire non prise en charge",
        emetteur_attendu="Mme Angela DUBOIS (mère)",
        reliquat=reliquat,
        date_demande=JUIN,
        auteur=auteur,
    )


def test_exemple_19_subside_d422_bloque_et_hors_cumul(etablissement, regisseur, chef):
    detenu = DetenuFactory(etablissement=etablissement)
    autorisation = _demande(detenu, regisseur)
    services.decider_d422(autorisation=autorisation, accorder=True, motif="Justifié", auteur=chef)
    recette(detenu.compte, "100.00", regisseur)
    services.encaisser_subside_d422(
        autorisation=autorisation,
        montant=D("300.00"),
        source="d422-1",
        motif="virement",
        auteur=regisseur,
        date_operation=JUIN,
    )
    compte = detenu.compte
    compte.refresh_from_db()
    assert (compte.parties_civiles, compte.pecule_liberation) == (D("0.00"), D("0.00"))
    assert compte.part_disponible == D("400.00")
    assert compte.part_disponible_bloquee == D("300.00")
    assert CompteurMensuel.objects.get(compte=compte).cumul == D("100.00")
    # Blocked money cannot pay the canteen.
    with pytest.raises(SoldeInsuffisant, match="non bloquée"):
        services.debiter_part_disponible(
            compte=compte,
            montant=D("100.01"),
            nature=NatureEcriture.CANTINE,
            source="c",
            motif="cantine",
            auteur=regisseur,
        )
    assert ecarts(compte) == []


def test_d422_excedent_reparti_puis_depense_et_reliquat(etablissement, regisseur, chef):
    detenu = DetenuFactory(etablissement=etablissement)
    autorisation = _demande(detenu, regisseur, montant="300.00")
    services.decider_d422(autorisation=autorisation, accorder=True, motif="Justifié", auteur=chef)
    services.encaisser_subside_d422(
        autorisation=autorisation,
        montant=D("550.00"),
        source="d1",
        motif="v",
        auteur=regisseur,
        date_operation=JUIN,
    )
    compte = detenu.compte
    compte.refresh_from_db()
    # 300 blocked, 250 above the authorisation split as an ordinary receipt (10 / 5 / 235).
    assert (compte.parties_civiles, compte.pecule_liberation) == (D("10.00"), D("5.00"))
    assert compte.part_disponible == D("535.00")
    assert compte.part_disponible_bloquee == D("300.00")
    assert services.montant_recu_d422(autorisation) == D("300.00")

    with pytest.raises(SoldeInsuffisant):
        services.payer_depense_d422(
            autorisation=autorisation,
            montant=D("300.01"),
            source="p0",
            motif="x",
            auteur=regisseur,
            fournisseur="Prothèses du Centre",
            iban=IBAN_FOURNISSEUR,
        )
    services.payer_depense_d422(
        autorisation=autorisation,
        montant=D("260.00"),
        source="p1",
        motif="Facture prothésiste",
        auteur=regisseur,
        fournisseur="Prothèses du Centre",
        iban=IBAN_FOURNISSEUR,
    )
    services.cloturer_d422(autorisation=autorisation, auteur=regisseur, date_operation=JUIN)
    compte.refresh_from_db()
    autorisation.refresh_from_db()
    assert autorisation.statut == StatutD422.CLOTUREE
    assert compte.part_disponible_bloquee == D("0.00")
    # The 40 € remainder is split at T0 = 250: 20 % and 10 % -> 8 / 4 / 28.
    assert (compte.parties_civiles, compte.pecule_liberation) == (D("18.00"), D("9.00"))
    assert CompteurMensuel.objects.get(compte=compte).cumul == D("290.00")
    actions = list(autorisation.evenements.values_list("action", flat=True))
    assert actions == ["demande", "autorisation", "reception", "depense", "cloture"]
    assert ecarts(compte) == []


def test_d422_reliquat_restitue(etablissement, regisseur, chef):
    detenu = DetenuFactory(etablissement=etablissement)
    autorisation = _demande(detenu, regisseur, reliquat=ChoixReliquat.RESTITUER)
    services.decider_d422(autorisation=autorisation, accorder=True, motif="ok", auteur=chef)
    services.encaisser_subside_d422(
        autorisation=autorisation, montant=D("300.00"), source="d1", motif="v", auteur=regisseur
    )
    services.payer_depense_d422(
        autorisation=autorisation,
        montant=D("250.00"),
        source="p1",
        motif="f",
        auteur=regisseur,
        fournisseur="Opticien",
        iban=IBAN_FOURNISSEUR,
    )
    with pytest.raises(CoordonneesBancairesInvalides, match="indiquez son nom et son IBAN"):
        services.cloturer_d422(autorisation=autorisation, auteur=regisseur)
    ecriture = services.cloturer_d422(
        autorisation=autorisation,
        auteur=regisseur,
        emetteur_nom="Angela DUBOIS",
        emetteur_iban=IBAN_PROCHE,
    )
    assert ecriture.lignes.get(partie=Partie.CONTREPARTIE).contrepartie == Contrepartie.EMETTEUR
    assert parts(detenu.compte) == (D("0.00"), D("0.00"), D("0.00"))
    # The 50 € remainder and the 250 € expense each leave by a payment order.
    assert sorted(
        ecriture.compte.ordres_virement.values_list("nature", "montant", "beneficiaire_iban")
    ) == [
        (NatureOrdre.FOURNISSEUR_D422, D("250.00"), IBAN_FOURNISSEUR),
        (NatureOrdre.RELIQUAT_D422, D("50.00"), IBAN_PROCHE),
    ]


def test_d422_l_auteur_de_la_demande_ne_decide_pas(etablissement):
    chef_et_regisseur = agent("Chef d'établissement", etablissement)
    chef_et_regisseur.groups.add(*agent("Régisseur", etablissement).groups.all())
    chef_et_regisseur = type(chef_et_regisseur).objects.get(pk=chef_et_regisseur.pk)
    detenu = DetenuFactory(etablissement=etablissement)
    autorisation = _demande(detenu, chef_et_regisseur)
    with pytest.raises(DroitsInsuffisants, match="ne peut pas la décider"):
        services.decider_d422(
            autorisation=autorisation, accorder=True, motif="ok", auteur=chef_et_regisseur
        )
    autorisation.refresh_from_db()
    assert autorisation.statut == StatutD422.DEMANDEE
    # The database states the same rule.
    autorisation.statut = StatutD422.AUTORISEE
    autorisation.decidee_par = chef_et_regisseur
    autorisation.decidee_le = autorisation.enregistree_le
    with pytest.raises(IntegrityError), transaction.atomic():
        autorisation.save()


def test_d422_mauvais_role_et_seconde_decision(etablissement, regisseur, chef):
    detenu = DetenuFactory(etablissement=etablissement)
    autorisation = _demande(detenu, regisseur)
    autre_regisseur = agent("Régisseur", etablissement)
    with pytest.raises(DroitsInsuffisants, match="pas le droit de décider"):
        services.decider_d422(
            autorisation=autorisation, accorder=True, motif="ok", auteur=autre_regisseur
        )
    chef_ailleurs = agent("Chef d'établissement", EtablissementFactory())
    with pytest.raises(DroitsInsuffisants, match="pas affecté"):
        services.decider_d422(
            autorisation=autorisation, accorder=True, motif="ok", auteur=chef_ailleurs
        )
    services.decider_d422(
        autorisation=autorisation, accorder=False, motif="A les moyens", auteur=chef
    )
    with pytest.raises(DecisionDejaPrise):
        services.decider_d422(autorisation=autorisation, accorder=True, motif="ok", auteur=chef)
    autorisation.refresh_from_db()
    assert autorisation.statut == StatutD422.REFUSEE
    with pytest.raises(OperationInterdite, match="pas en cours"):
        services.encaisser_subside_d422(
            autorisation=autorisation, montant=D("10.00"), source="z", motif="v", auteur=regisseur
        )


def test_d422_prevenu_exige_la_decision_du_magistrat(etablissement, regisseur, chef):
    detenu = DetenuFactory(etablissement=etablissement, statut_penal=StatutPenal.PREVENU)
    autorisation = _demande(detenu, regisseur)
    with pytest.raises(OperationInterdite, match="magistrat"):
        services.decider_d422(autorisation=autorisation, accorder=True, motif="ok", auteur=chef)
    services.enregistrer_decision_magistrat(
        autorisation=autorisation,
        decision=DecisionMagistrat.DEFAVORABLE,
        magistrat_nom="Mme la juge d'instruction X",
        reference="JI-2026-42",
        date_decision=JUIN,
        auteur=regisseur,
    )
    with pytest.raises(OperationInterdite, match="ne peut être que refusée"):
        services.decider_d422(autorisation=autorisation, accorder=True, motif="ok", auteur=chef)
    services.decider_d422(
        autorisation=autorisation, accorder=False, motif="Avis défavorable", auteur=chef
    )
    autorisation.refresh_from_db()
    assert autorisation.statut == StatutD422.REFUSEE


# --- Transfer and release ------------------------------------------------------------


def test_transfert_emporte_les_soldes_et_l_autorisation(etablissement, regisseur, chef):
    destination = EtablissementFactory()
    regisseur_destination = agent("Régisseur", destination)
    detenu = DetenuFactory(etablissement=etablissement)
    recette(detenu.compte, "500.00", regisseur)
    autorisation = _demande(detenu, regisseur)
    services.decider_d422(autorisation=autorisation, accorder=True, motif="ok", auteur=chef)
    services.encaisser_subside_d422(
        autorisation=autorisation, montant=D("100.00"), source="d1", motif="v", auteur=regisseur
    )
    avant = parts(detenu.compte)
    sortie, entree = services.transferer_detenu(
        detenu=detenu, vers=destination, nouveau_numero_ecrou="L-555", auteur=regisseur
    )
    assert sortie.etablissement == etablissement and entree.etablissement == destination
    assert parts(detenu.compte) == avant
    detenu.refresh_from_db()
    autorisation.refresh_from_db()
    assert detenu.etablissement == destination and detenu.numero_ecrou == "L-555"
    assert autorisation.etablissement == destination
    assert detenu.compte.part_disponible_bloquee == D("100.00")
    # The rest of the authorised amount still arrives unsplit at the new prison.
    services.encaisser_subside_d422(
        autorisation=autorisation,
        montant=D("200.00"),
        source="d2",
        motif="v",
        auteur=regisseur_destination,
    )
    detenu.compte.refresh_from_db()
    assert detenu.compte.part_disponible_bloquee == D("300.00")
    # The former régisseur can no longer book on the account.
    with pytest.raises(DroitsInsuffisants):
        recette(detenu.compte, "10.00", regisseur)
    assert ecarts(detenu.compte) == []


def test_liberation(etablissement, regisseur):
    detenu = DetenuFactory(etablissement=etablissement)
    recette(detenu.compte, "3000.00", regisseur)
    p1, pl, pd = parts(detenu.compte)
    assert p1 > D("500.00")
    # Victims not compensated, part 1 above 500 €: the texts send it to the FGTI
    # (D. 332-22), which is what the service does when nothing is said.
    assert services.sort_parties_civiles_propose(detenu.compte) == services.SortPartiesCiviles.FGTI
    ecriture = services.liquider_a_la_liberation(
        compte=detenu.compte, auteur=regisseur, date_liberation=JUIN
    )
    contreparties = {
        ligne.contrepartie: ligne.montant
        for ligne in ecriture.lignes.filter(partie=Partie.CONTREPARTIE)
    }
    assert contreparties == {Contrepartie.DETENU: pl + pd, Contrepartie.FGTI: p1}
    # Cash to the person; the FGTI is paid by an order to its account.
    ordre = ecriture.ordres_virement.get()
    assert (ordre.nature, ordre.montant, ordre.partie) == (
        NatureOrdre.FGTI,
        p1,
        Partie.PARTIES_CIVILES,
    )
    compte = CompteNominatif.objects.get(pk=detenu.compte.pk)
    assert compte.total == 0 and compte.cloture_le is not None
    with pytest.raises(OperationInterdite, match="libérée"):
        recette(compte, "10.00", regisseur)


def test_liberation_parties_civiles_sous_le_seuil_remises(etablissement, regisseur):
    detenu = DetenuFactory(etablissement=etablissement)
    recette(detenu.compte, "600.00", regisseur)  # spec 01 example 8: 90 / 40 / 470
    with pytest.raises(OperationInterdite, match="ne dépasse pas 500"):
        services.liquider_a_la_liberation(
            compte=detenu.compte,
            auteur=regisseur,
            date_liberation=JUIN,
            sort_parties_civiles=services.SortPartiesCiviles.FGTI,
        )
    with pytest.raises(OperationInterdite, match="créancier d'aliments"):
        services.liquider_a_la_liberation(
            compte=detenu.compte,
            auteur=regisseur,
            date_liberation=JUIN,
            sort_parties_civiles=services.SortPartiesCiviles.CONSERVER,
        )
    # 90 € at most 500 €, unclaimed: the texts are silent; the person receives what the
    # liquidation leaves (D. 332-21), 90 + 40 + 470 = 600 €, here by transfer.
    ecriture = services.liquider_a_la_liberation(
        compte=detenu.compte,
        auteur=regisseur,
        date_liberation=JUIN,
        mode_remise=services.ModeRemise.VIREMENT,
        iban=IBAN_PROCHE,
    )
    compte = CompteNominatif.objects.get(pk=detenu.compte.pk)
    assert compte.total == 0 and compte.cloture_le is not None
    ordre = ecriture.ordres_virement.get()
    assert (ordre.nature, ordre.montant, ordre.beneficiaire_nom) == (
        NatureOrdre.LIBERATION,
        D("600.00"),
        f"{detenu.prenoms} {detenu.nom}",
    )


def test_liberation_part_conservee_pour_le_creancier_d_aliments(etablissement, regisseur):
    detenu = DetenuFactory(etablissement=etablissement, creance_alimentaire_executoire=True)
    recette(detenu.compte, "600.00", regisseur)  # 90 / 40 / 470
    assert (
        services.sort_parties_civiles_propose(CompteNominatif.objects.get(detenu=detenu))
        == services.SortPartiesCiviles.CONSERVER
    )
    with pytest.raises(OperationInterdite, match="conservée pour lui"):
        services.liquider_a_la_liberation(
            compte=detenu.compte,
            auteur=regisseur,
            date_liberation=JUIN,
            sort_parties_civiles=services.SortPartiesCiviles.REMETTRE,
        )
    services.liquider_a_la_liberation(compte=detenu.compte, auteur=regisseur, date_liberation=JUIN)
    compte = CompteNominatif.objects.get(pk=detenu.compte.pk)
    assert (compte.parties_civiles, compte.pecule_liberation, compte.part_disponible) == (
        D("90.00"),
        D("0.00"),
        D("0.00"),
    )
    assert compte.cloture_le is None  # open until the creditor is paid


def test_paiement_victimes_et_deblocage_pecule(etablissement, regisseur, chef):
    compte = DetenuFactory(etablissement=etablissement).compte
    recette(compte, "600.00", regisseur)  # 90 / 40 / 470
    # The pécule is then released during a semi-liberté (D. 424-3).
    compte.detenu.regime = Regime.SEMI_LIBERTE
    compte.detenu.save()
    with pytest.raises(SoldeInsuffisant, match="parties civiles"):
        services.payer_parties_civiles(
            compte=compte,
            montant=D("90.01"),
            beneficiaire="M. X",
            iban=IBAN_PROCHE,
            source="v0",
            motif="réquisition",
            auteur=regisseur,
        )
    services.payer_parties_civiles(
        compte=compte,
        montant=D("90.00"),
        beneficiaire="M. X",
        iban=IBAN_PROCHE,
        source="v1",
        motif="Réquisition du procureur",
        auteur=regisseur,
    )
    compte.detenu.regime = Regime.SEMI_LIBERTE
    compte.detenu.save()
    with pytest.raises(DroitsInsuffisants):
        services.debloquer_pecule_liberation(
            compte=compte,
            montant=D("10.00"),
            source="p",
            motif="x",
            auteur=regisseur,
            beneficiaire="Agence",
            iban=IBAN_FOURNISSEUR,
        )
    services.debloquer_pecule_liberation(
        compte=compte,
        montant=D("40.00"),
        source="p1",
        motif="Caution logement",
        auteur=chef,
        beneficiaire="Agence immobilière",
        iban=IBAN_FOURNISSEUR,
    )
    assert parts(compte) == (D("0.00"), D("0.00"), D("470.00"))


def test_capital_rente_accident_du_travail(etablissement, regisseur):
    compte = DetenuFactory(etablissement=etablissement).compte
    services.crediter_capital_rente_accident_travail(
        compte=compte, montant=D("1500.00"), source="at1", motif="CPAM", auteur=regisseur
    )
    assert parts(compte) == (D("0.00"), D("1500.00"), D("0.00"))
    assert CompteurMensuel.objects.count() == 0


# --- Corrections -----------------------------------------------------------------------


def test_contrepassation_d_une_recette(etablissement, regisseur):
    compte = DetenuFactory(etablissement=etablissement).compte
    recette(compte, "100.00", regisseur)
    erreur = recette(compte, "300.00", regisseur)
    services.contrepasser(ecriture=erreur, motif="Saisie en double", auteur=regisseur)
    assert parts(compte) == (D("0.00"), D("0.00"), D("100.00"))
    assert CompteurMensuel.objects.get(compte=compte).cumul == D("100.00")
    assert cumul_recalcule(compte, 2026, 6) == D("100.00")
    with pytest.raises(EcritureDejaPassee):
        services.contrepasser(ecriture=erreur, motif="encore", auteur=regisseur)
    assert ecarts(compte) == []


def test_contrepassation_refusee_si_deja_depense(etablissement, regisseur):
    compte = DetenuFactory(etablissement=etablissement).compte
    ecriture = recette(compte, "100.00", regisseur)
    services.debiter_part_disponible(
        compte=compte,
        montant=D("60.00"),
        nature=NatureEcriture.CANTINE,
        source="c",
        motif="c",
        auteur=regisseur,
    )
    with pytest.raises(SoldeInsuffisant):
        services.contrepasser(ecriture=ecriture, motif="erreur", auteur=regisseur)
    assert Ecriture.objects.filter(nature=NatureEcriture.CONTREPASSATION).count() == 0


def test_remboursement_cantine(etablissement, regisseur):
    compte = DetenuFactory(etablissement=etablissement).compte
    recette(compte, "100.00", regisseur)
    debit = services.debiter_part_disponible(
        compte=compte,
        montant=D("40.00"),
        nature=NatureEcriture.CANTINE,
        source="c",
        motif="bon 12",
        auteur=regisseur,
    )
    services.rembourser(
        ecriture=debit, montant=D("15.00"), source="r1", motif="article manquant", auteur=regisseur
    )
    with pytest.raises(OperationInterdite, match="25,00"):
        services.rembourser(
            ecriture=debit, montant=D("25.01"), source="r2", motif="x", auteur=regisseur
        )
    services.rembourser(
        ecriture=debit, montant=D("25.00"), source="r3", motif="annulé", auteur=regisseur
    )
    assert parts(compte)[2] == D("100.00")


# --- Caps and deprivation of subsidies at crediting ------------------------------------


def test_virement_proche_plafonds(regisseur):
    etablissement = EtablissementFactory(
        plafond_par_virement=D("150.00"),
        plafond_mensuel_par_detenu=D("300.00"),
        plafond_mensuel_par_emetteur=D("200.00"),
    )
    compte = DetenuFactory(etablissement=etablissement).compte

    def virement(montant, emetteur, source):
        return services.crediter_virement_proche(
            compte=compte,
            montant=D(montant),
            source=source,
            emetteur=emetteur,
            motif="virement",
            auteur_systeme="test",
            date_operation=JUIN,
        )

    with pytest.raises(PlafondDepasse, match="150,00 €") as erreur:
        virement("150.01", "proche:1", "v0")
    assert erreur.value.details["plafond"] == "par_virement"
    virement("150.00", "proche:1", "v1")
    with pytest.raises(PlafondDepasse, match="un même proche") as erreur:
        virement("50.01", "proche:1", "v2")
    assert erreur.value.details["reste"] == D("50.00")
    virement("100.00", "proche:2", "v3")
    with pytest.raises(PlafondDepasse, match="encore 50,00 €") as erreur:
        virement("50.01", "proche:3", "v4")
    assert erreur.value.details["plafond"] == "mensuel_detenu"
    virement("50.00", "proche:3", "v5")
    assert Ecriture.objects.filter(compte=compte).count() == 3


def test_virement_proche_prive_de_subsides(etablissement):
    detenu = DetenuFactory(
        etablissement=etablissement, prive_de_subsides_jusquau=datetime.date(2026, 6, 30)
    )
    with pytest.raises(SubsidesInterdits, match="30/06/2026"):
        services.crediter_virement_proche(
            compte=detenu.compte,
            montant=D("20.00"),
            source="v",
            emetteur="p",
            motif="virement",
            auteur_systeme="test",
            date_operation=JUIN,
        )
    services.crediter_virement_proche(
        compte=detenu.compte,
        montant=D("20.00"),
        source="v",
        emetteur="p",
        motif="virement",
        auteur_systeme="test",
        date_operation=datetime.date(2026, 7, 1),
    )


# --- The database's own guards (PostgreSQL) --------------------------------------------


@pytest.mark.postgres
def test_registre_en_ajout_seul(etablissement, regisseur):
    compte = DetenuFactory(etablissement=etablissement).compte
    ecriture = recette(compte, "100.00", regisseur)
    with pytest.raises(IntegrityError, match="ajout seul"), transaction.atomic():
        Ecriture.objects.filter(pk=ecriture.pk).update(motif="modifié")
    with pytest.raises(IntegrityError, match="ajout seul"), transaction.atomic():
        LigneEcriture.objects.filter(ecriture=ecriture).update(montant=D("1.00"))
    with pytest.raises(IntegrityError, match="ajout seul"), transaction.atomic():
        LigneEcriture.objects.filter(ecriture=ecriture).delete()
    assert soldes_recalcules(compte)[Partie.PART_DISPONIBLE] == D("100.00")


@pytest.mark.postgres
def test_ecriture_desequilibree_refusee_par_la_base(etablissement, regisseur):
    compte = DetenuFactory(etablissement=etablissement).compte
    with pytest.raises(IntegrityError, match="déséquilibrée"), transaction.atomic():
        ecriture = Ecriture.objects.create(
            etablissement=etablissement,
            compte=compte,
            nature=NatureEcriture.AUTRE_RECETTE,
            source="manuelle",
            motif="hors service",
            date_operation=JUIN,
            auteur=regisseur,
            montant=D("10.00"),
        )
        LigneEcriture.objects.create(
            ecriture=ecriture, partie=Partie.PART_DISPONIBLE, montant=D("10.00")
        )
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_solde_negatif_refuse_par_la_base(etablissement):
    compte = DetenuFactory(etablissement=etablissement).compte
    with pytest.raises(IntegrityError), transaction.atomic():
        CompteNominatif.objects.filter(pk=compte.pk).update(part_disponible=D("-0.01"))
    with pytest.raises(IntegrityError), transaction.atomic():
        CompteNominatif.objects.filter(pk=compte.pk).update(
            part_disponible=D("10.00"), part_disponible_bloquee=D("10.01")
        )


def test_virement_d422_hors_plafond_mais_excedent_plafonne(regisseur):
    etablissement = EtablissementFactory(
        plafond_par_virement=D("100.00"), plafond_mensuel_par_detenu=D("200.00")
    )
    chef = agent("Chef d'établissement", etablissement)
    regisseur = agent("Régisseur", etablissement)
    detenu = DetenuFactory(etablissement=etablissement)
    autorisation = _demande(detenu, regisseur, montant="500.00")
    services.decider_d422(autorisation=autorisation, accorder=True, motif="ok", auteur=chef)

    def virement(montant, source):
        return services.crediter_virement_proche(
            compte=detenu.compte,
            montant=D(montant),
            source=source,
            emetteur="proche:1",
            motif="virement",
            auteur_systeme="test",
            date_operation=JUIN,
            autorisation=autorisation,
        )

    virement("500.00", "v1")  # above the per-transfer cap, but authorised
    with pytest.raises(PlafondDepasse):
        virement("150.00", "v2")  # nothing left of the authorisation: 150 > 100 per transfer
    virement("80.00", "v3")
    detenu.compte.refresh_from_db()
    assert detenu.compte.part_disponible_bloquee == D("500.00")
    assert detenu.compte.part_disponible == D("580.00")
