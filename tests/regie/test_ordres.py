"""Money out (spec 05): every outgoing movement writes a payment order in the same
transaction; four eyes in the service whatever the roles; the batch's pain.001 file is
valid against the official XSD and carries exactly the validated orders; the bank's answer
(executed or rejected) closes the order, a rejection or a refusal puts the money back;
the régie's account changes only under four eyes. Bad input changes nothing."""

import datetime
from decimal import Decimal as D

import pytest
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from lxml import etree

from comptes.models import Utilisateur
from regie import services
from regie.exceptions import (
    CoordonneesBancairesInvalides,
    DecisionDejaPrise,
    DroitsInsuffisants,
    OperationInterdite,
    SecondRegardRequis,
    SoldeInsuffisant,
)
from regie.models import (
    ActionOrdre,
    ChangementCompteRegie,
    ChoixReliquat,
    CompteNominatif,
    Contrepartie,
    Ecriture,
    NatureEcriture,
    NatureOrdre,
    OrdreVirement,
    Regime,
    Remise,
    StatutChangementCompte,
    StatutOrdre,
    StatutRemise,
)
from regie.selectors import ecarts
from socle.iso20022 import repertoire_schemas
from tests.factories import (
    IBAN_FOURNISSEUR,
    IBAN_PROCHE,
    DetenuFactory,
    EtablissementFactory,
    agent,
)

pytestmark = pytest.mark.django_db

JOUR = datetime.date(2026, 7, 1)  # the régie's tests run on 1 July 2026 (tests/regie/conftest)
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}


@pytest.fixture
def etablissement():
    return EtablissementFactory(code="FRE", regie_titulaire="Régie du CP de Fresnes")


@pytest.fixture
def regisseur(etablissement):
    return agent("Régisseur", etablissement)


@pytest.fixture
def chef(etablissement):
    return agent("Chef d'établissement", etablissement)


@pytest.fixture
def compte(etablissement, regisseur):
    compte = DetenuFactory(etablissement=etablissement, nom="MARTIN", prenoms="Paul").compte
    # 600 € in June (spec 01 example 8): 90 / 40 / 470.
    services.encaisser_recette(
        compte=compte,
        montant=D("600.00"),
        nature=NatureEcriture.SALAIRE,
        source="paie-juin",
        motif="Paie de juin",
        auteur=regisseur,
        date_operation=datetime.date(2026, 6, 30),
    )
    return CompteNominatif.objects.get(pk=compte.pk)


def parts(compte):
    compte.refresh_from_db()
    return compte.parties_civiles, compte.pecule_liberation, compte.part_disponible


def envoi(compte, auteur, montant="50.00", iban=IBAN_PROCHE, source="envoi-1"):
    return services.debiter_part_disponible(
        compte=compte,
        montant=D(montant),
        nature=NatureEcriture.VIREMENT_SORTANT,
        source=source,
        motif="Envoi à sa mère",
        auteur=auteur,
        beneficiaire="Mme Jeanne MARTIN",
        iban=iban,
    )


# --- Each outgoing movement writes its order ---------------------------------------------


def test_l_envoi_d_argent_ecrit_son_ordre(compte, regisseur):
    ecriture = envoi(compte, regisseur)
    ordre = ecriture.ordres_virement.get()
    assert ordre.nature == NatureOrdre.VIREMENT_DETENU
    assert (ordre.montant, ordre.beneficiaire_iban) == (D("50.00"), IBAN_PROCHE)
    assert ordre.statut == StatutOrdre.PREPARE and ordre.prepare_par == regisseur
    assert len(ordre.reference) <= 35 and ordre.reference in ordre.libelle
    assert len(ordre.libelle) <= 140
    assert list(ordre.evenements.values_list("action", flat=True)) == [ActionOrdre.PREPARATION]
    assert parts(compte) == (D("90.00"), D("40.00"), D("420.00"))


@pytest.mark.parametrize(
    ("iban", "message"),
    [
        ("FR76 3000 6000 0112 3456 7890 287", "clé de contrôle"),
        ("FR76 3000 6000 0112 3456", "longueur"),
        ("", "obligatoire"),
        ("US12345678901234567890", "code pays"),
    ],
)
def test_un_iban_invalide_ne_change_rien(compte, regisseur, iban, message):
    with pytest.raises(CoordonneesBancairesInvalides, match=message):
        envoi(compte, regisseur, iban=iban)
    assert not Ecriture.objects.filter(nature=NatureEcriture.VIREMENT_SORTANT).exists()
    assert not OrdreVirement.objects.exists()
    assert parts(compte) == (D("90.00"), D("40.00"), D("470.00"))


def test_un_bic_d_un_autre_pays_est_refuse(compte, regisseur):
    with pytest.raises(CoordonneesBancairesInvalides, match="pas du même pays"):
        services.debiter_part_disponible(
            compte=compte,
            montant=D("10.00"),
            nature=NatureEcriture.VIREMENT_SORTANT,
            source="x",
            motif="x",
            auteur=regisseur,
            beneficiaire="X",
            iban=IBAN_PROCHE,
            bic="COBADEFFXXX",
        )
    assert not OrdreVirement.objects.exists()


def test_un_montant_au_dela_de_la_part_ne_cree_pas_d_ordre(compte, regisseur):
    with pytest.raises(SoldeInsuffisant):
        envoi(compte, regisseur, montant="470.01")
    assert not OrdreVirement.objects.exists()


def test_la_cantine_n_est_pas_un_virement(compte, regisseur):
    services.debiter_part_disponible(
        compte=compte,
        montant=D("10.00"),
        nature=NatureEcriture.CANTINE,
        source="c1",
        motif="Cantine",
        auteur=regisseur,
    )
    assert not OrdreVirement.objects.exists()
    with pytest.raises(OperationInterdite, match="envoi d'argent"):
        services.debiter_part_disponible(
            compte=compte,
            montant=D("10.00"),
            nature=NatureEcriture.CANTINE,
            source="c2",
            motif="Cantine",
            auteur=regisseur,
            beneficiaire="X",
            iban=IBAN_PROCHE,
        )


def test_le_transfert_paie_la_regie_d_accueil(compte, regisseur):
    accueil = EtablissementFactory(
        code="LYO",
        regie_titulaire="Régie de Lyon-Corbas",
        regie_iban="FR1420041010050500013M02606",
    )
    sortie, _entree = services.transferer_detenu(
        detenu=compte.detenu, vers=accueil, nouveau_numero_ecrou="9001", auteur=regisseur
    )
    ordre = sortie.ordres_virement.get()
    assert (ordre.nature, ordre.montant) == (NatureOrdre.TRANSFERT, D("600.00"))
    assert (ordre.beneficiaire_nom, ordre.beneficiaire_iban) == (
        "Régie de Lyon-Corbas",
        "FR1420041010050500013M02606",
    )
    assert ordre.etablissement != accueil  # the origin pays


def test_deux_regies_sur_un_meme_compte_ne_se_virent_rien(compte, regisseur, etablissement):
    voisine = EtablissementFactory(code="VOI", regie_iban=etablissement.regie_iban)
    sortie, _ = services.transferer_detenu(
        detenu=compte.detenu, vers=voisine, nouveau_numero_ecrou="9002", auteur=regisseur
    )
    assert not sortie.ordres_virement.exists()


# --- Four eyes -----------------------------------------------------------------------------


def test_la_personne_qui_prepare_ne_valide_jamais(compte, etablissement):
    superutilisateur = Utilisateur.objects.create_superuser("super", "s@example.fr", "x-Y-z-123")
    # A chef who is also régisseur, and a superuser: neither validates what they prepared.
    cumul = agent("Chef d'établissement", etablissement)
    cumul.groups.add(Group.objects.get(name="Régisseur"))
    cumul = Utilisateur.objects.get(pk=cumul.pk)
    for preparateur, source in ((cumul, "e1"), (superutilisateur, "e2")):
        ordre = envoi(compte, preparateur, montant="10.00", source=source).ordres_virement.get()
        with pytest.raises(SecondRegardRequis, match="une autre personne"):
            services.valider_ordre(ordre=ordre, auteur=preparateur)
        with pytest.raises(SecondRegardRequis):
            services.refuser_ordre(ordre=ordre, auteur=preparateur, motif="non")
        ordre.refresh_from_db()
        assert ordre.statut == StatutOrdre.PREPARE
    # The database refuses it too.
    ordre = OrdreVirement.objects.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        OrdreVirement.objects.filter(pk=ordre.pk).update(
            statut=StatutOrdre.VALIDE, valide_par=ordre.prepare_par, valide_le=ordre.prepare_le
        )


def test_valider_demande_le_droit_et_l_etablissement(compte, regisseur, chef):
    ordre = envoi(compte, regisseur).ordres_virement.get()
    autre_regisseur = agent("Régisseur", compte.detenu.etablissement)
    with pytest.raises(DroitsInsuffisants, match="droit de valider"):
        services.valider_ordre(ordre=ordre, auteur=autre_regisseur)
    chef_ailleurs = agent("Chef d'établissement", EtablissementFactory(code="AIL"))
    with pytest.raises(DroitsInsuffisants, match="affecté"):
        services.valider_ordre(ordre=ordre, auteur=chef_ailleurs)
    services.valider_ordre(ordre=ordre, auteur=chef)
    with pytest.raises(DecisionDejaPrise):
        services.valider_ordre(ordre=ordre, auteur=chef)
    ordre.refresh_from_db()
    assert (ordre.statut, ordre.valide_par) == (StatutOrdre.VALIDE, chef)
    # A second régisseur given the approval right may validate too.
    second = agent("Régisseur", compte.detenu.etablissement)
    second.user_permissions.add(*Permission.objects.filter(codename="valider_ordrevirement"))
    autre = envoi(compte, regisseur, source="e2").ordres_virement.get()
    services.valider_ordre(ordre=autre, auteur=Utilisateur.objects.get(pk=second.pk))


def test_le_refus_remet_l_argent_sur_sa_partie(compte, regisseur, chef):
    ordre = envoi(compte, regisseur).ordres_virement.get()
    with pytest.raises(OperationInterdite, match="motif"):
        services.refuser_ordre(ordre=ordre, auteur=chef, motif=" ")
    services.refuser_ordre(ordre=ordre, auteur=chef, motif="Le RIB n'est pas celui de sa mère")
    ordre.refresh_from_db()
    assert ordre.statut == StatutOrdre.REFUSE
    assert ordre.ecriture_annulation.nature == NatureEcriture.ANNULATION_ORDRE
    assert parts(compte) == (D("90.00"), D("40.00"), D("470.00"))
    assert ecarts(compte) == []
    # A refused order's entry: nothing more to reverse; a live one cannot be reversed.
    vivant = envoi(compte, regisseur, source="e2")
    with pytest.raises(OperationInterdite, match="doit être refusé"):
        services.contrepasser(ecriture=vivant, motif="erreur", auteur=regisseur)


def test_une_depense_d422_refusee_revient_bloquee(etablissement, regisseur, chef):
    detenu = DetenuFactory(etablissement=etablissement)
    autorisation = services.demander_d422(
        detenu=detenu,
        montant=D("300.00"),
        objet="Lunettes",
        emetteur_attendu="Sa sœur",
        reliquat=ChoixReliquat.REPARTIR,
        date_demande=JOUR,
        auteur=regisseur,
    )
    services.decider_d422(autorisation=autorisation, accorder=True, motif="ok", auteur=chef)
    services.encaisser_subside_d422(
        autorisation=autorisation, montant=D("300.00"), source="s", motif="v", auteur=regisseur
    )
    depense = services.payer_depense_d422(
        autorisation=autorisation,
        montant=D("250.00"),
        source="d",
        motif="Opticien",
        auteur=regisseur,
        fournisseur="Optique du Centre",
        iban=IBAN_FOURNISSEUR,
        piece="FAC-12",
    )
    compte = CompteNominatif.objects.get(detenu=detenu)
    assert (compte.part_disponible, compte.part_disponible_bloquee) == (D("50.00"), D("50.00"))
    services.refuser_ordre(
        ordre=depense.ordres_virement.get(), auteur=chef, motif="Facture non conforme"
    )
    compte.refresh_from_db()
    assert (compte.part_disponible, compte.part_disponible_bloquee) == (D("300.00"), D("300.00"))
    assert services.montant_bloque_d422(autorisation) == D("300.00")


# --- Batches and the pain.001 file -------------------------------------------------------


def _valides(compte, regisseur, chef, nombre=2):
    ordres = []
    for rang in range(nombre):
        ordre = envoi(compte, regisseur, montant=f"{10 + rang}.50", source=f"v{rang}")
        ordres.append(services.valider_ordre(ordre=ordre.ordres_virement.get(), auteur=chef))
    return ordres


def test_la_remise_rassemble_les_ordres_valides_dans_un_pain001_conforme(
    compte, regisseur, chef, etablissement
):
    valides = _valides(compte, regisseur, chef)
    envoi(compte, regisseur, montant="7.00", source="pas-valide")  # stays out
    remise = services.constituer_remise(etablissement=etablissement, auteur=regisseur)
    assert (remise.nombre, remise.total) == (2, D("22.00"))  # 10.50 + 11.50
    document = etree.fromstring(bytes(remise.fichier))
    schema = etree.XMLSchema(etree.parse(str(repertoire_schemas() / "pain.001.001.03.xsd")))
    assert schema.validate(document), schema.error_log
    assert document.findtext(".//p:GrpHdr/p:MsgId", namespaces=NS) == remise.reference
    assert document.findtext(".//p:GrpHdr/p:NbOfTxs", namespaces=NS) == "2"
    assert document.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=NS) == "22.00"
    assert document.findtext(".//p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == (
        etablissement.regie_iban
    )
    transactions = {
        tx.findtext("p:PmtId/p:EndToEndId", namespaces=NS): (
            tx.findtext("p:Amt/p:InstdAmt", namespaces=NS),
            tx.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS),
        )
        for tx in document.iterfind(".//p:CdtTrfTxInf", NS)
    }
    assert transactions == {o.reference: (f"{o.montant:.2f}", o.beneficiaire_iban) for o in valides}
    assert set(remise.ordres.values_list("statut", flat=True)) == {StatutOrdre.EN_REMISE}
    with pytest.raises(OperationInterdite, match="Aucun ordre validé"):
        services.constituer_remise(etablissement=etablissement, auteur=regisseur)


def test_la_remise_est_transmise_une_fois(compte, regisseur, chef, etablissement):
    _valides(compte, regisseur, chef)
    remise = services.constituer_remise(etablissement=etablissement, auteur=regisseur)
    fichier = services.transmettre_remise(remise=remise, auteur=regisseur)
    assert fichier == bytes(Remise.objects.get(pk=remise.pk).fichier)
    remise.refresh_from_db()
    assert remise.statut == StatutRemise.TRANSMISE
    assert set(remise.ordres.values_list("statut", flat=True)) == {StatutOrdre.TRANSMIS}
    with pytest.raises(OperationInterdite, match="déjà été téléchargé"):
        services.transmettre_remise(remise=remise, auteur=chef)
    with pytest.raises(OperationInterdite, match="ne peut plus être annulée"):
        services.annuler_remise(remise=remise, auteur=regisseur)


def test_une_remise_annulee_rend_ses_ordres(compte, regisseur, chef, etablissement):
    valides = _valides(compte, regisseur, chef)
    remise = services.constituer_remise(etablissement=etablissement, auteur=regisseur)
    services.annuler_remise(remise=remise, auteur=chef)
    assert {o.statut for o in OrdreVirement.objects.filter(pk__in=[o.pk for o in valides])} == {
        StatutOrdre.VALIDE
    }
    with pytest.raises(OperationInterdite, match="annulée"):
        services.transmettre_remise(remise=remise, auteur=regisseur)
    nouvelle = services.constituer_remise(etablissement=etablissement, auteur=regisseur)
    assert nouvelle.reference != remise.reference and nouvelle.nombre == 2


def test_une_remise_ne_prend_que_les_ordres_de_son_etablissement(compte, regisseur, chef):
    ailleurs = EtablissementFactory(code="AIL")
    regisseur_ailleurs = agent("Régisseur", ailleurs)
    _valides(compte, regisseur, chef)
    with pytest.raises(DroitsInsuffisants):
        services.constituer_remise(etablissement=ailleurs, auteur=regisseur)
    with pytest.raises(OperationInterdite, match="Aucun ordre"):
        services.constituer_remise(etablissement=ailleurs, auteur=regisseur_ailleurs)


# --- The bank's answer -------------------------------------------------------------------


def _transmis(compte, regisseur, chef, etablissement):
    ordres = _valides(compte, regisseur, chef)
    remise = services.constituer_remise(etablissement=etablissement, auteur=regisseur)
    services.transmettre_remise(remise=remise, auteur=regisseur)
    return [OrdreVirement.objects.get(pk=o.pk) for o in ordres]


def test_execution_constatee_une_fois(compte, regisseur, chef, etablissement):
    ordre, _ = _transmis(compte, regisseur, chef, etablissement)
    for _ in range(2):
        services.constater_execution(
            ordre=ordre, date_execution=JOUR, reference_banque="B1", auteur_systeme="test"
        )
    ordre.refresh_from_db()
    assert (ordre.statut, ordre.execute_le) == (StatutOrdre.EXECUTE, JOUR)
    assert ordre.evenements.filter(action=ActionOrdre.EXECUTION).count() == 1
    with pytest.raises(OperationInterdite, match="ne peut pas être rejeté"):
        services.constater_rejet(ordre=ordre, code="AC04", motif="clos", auteur_systeme="t")
    # Paid: the entry can no longer be reversed.
    with pytest.raises(OperationInterdite, match="ne peut plus être contre-passée"):
        services.contrepasser(ecriture=ordre.ecriture, motif="x", auteur=regisseur)


def test_le_rejet_remet_l_argent_et_garde_le_motif_de_la_banque(
    compte, regisseur, chef, etablissement
):
    ordre, _autre = _transmis(compte, regisseur, chef, etablissement)
    avant = parts(compte)
    for _ in range(2):  # the same report twice changes nothing more
        services.constater_rejet(
            ordre=ordre, code="AC04", motif="Compte clos", auteur_systeme="pain.002"
        )
    ordre.refresh_from_db()
    assert (ordre.statut, ordre.code_rejet, ordre.motif_rejet) == (
        StatutOrdre.REJETE,
        "AC04",
        "Compte clos",
    )
    assert parts(compte) == (avant[0], avant[1], avant[2] + ordre.montant)
    assert "AC04" in ordre.ecriture_annulation.motif
    assert ecarts(compte) == []


def test_la_liberation_rejetee_rouvre_le_compte(compte, regisseur, chef, etablissement):
    ecriture = services.liquider_a_la_liberation(
        compte=compte,
        auteur=regisseur,
        date_liberation=JOUR,
        mode_remise=services.ModeRemise.VIREMENT,
        iban=IBAN_PROCHE,
    )
    compte.refresh_from_db()
    assert compte.cloture_le is not None
    ordre = ecriture.ordres_virement.get()
    services.valider_ordre(ordre=ordre, auteur=chef)
    remise = services.constituer_remise(etablissement=etablissement, auteur=regisseur)
    services.transmettre_remise(remise=remise, auteur=regisseur)
    services.constater_rejet(ordre=ordre, code="AC01", motif="IBAN faux", auteur_systeme="t")
    compte.refresh_from_db()
    assert compte.cloture_le is None and compte.part_disponible == D("600.00")
    # Paid again, to the right account: a second liquidation of the released person.
    nouvelle = services.liquider_a_la_liberation(
        compte=compte,
        auteur=regisseur,
        date_liberation=JOUR,
        mode_remise=services.ModeRemise.VIREMENT,
        iban=IBAN_FOURNISSEUR,
    )
    assert nouvelle.ordres_virement.get().beneficiaire_iban == IBAN_FOURNISSEUR
    compte.refresh_from_db()
    assert compte.total == 0 and compte.cloture_le is not None


def test_le_transfert_rejete_se_reemet(compte, regisseur, chef, etablissement):
    accueil = EtablissementFactory(code="LYO", regie_iban="FR1420041010050500013M02606")
    sortie, _ = services.transferer_detenu(
        detenu=compte.detenu, vers=accueil, nouveau_numero_ecrou="9001", auteur=regisseur
    )
    ordre = sortie.ordres_virement.get()
    services.refuser_ordre(ordre=ordre, auteur=chef, motif="Mauvaise régie")
    ordre.refresh_from_db()
    assert ordre.ecriture_annulation is None  # the account is at the destination now
    nouvel = services.reemettre_ordre(ordre=ordre, auteur=regisseur)
    assert (nouvel.montant, nouvel.ecriture, nouvel.statut) == (
        D("600.00"),
        sortie,
        StatutOrdre.PREPARE,
    )
    with pytest.raises(OperationInterdite, match="déjà en cours"):
        services.reemettre_ordre(ordre=ordre, auteur=regisseur)


# --- The régie's own account -------------------------------------------------------------


NOUVEL_IBAN = "FR1420041010050500013M02606"


def test_le_compte_de_la_regie_change_a_quatre_yeux(
    etablissement, regisseur, chef, django_capture_on_commit_callbacks
):
    chef.email = "chef@example.fr"
    chef.save()
    ancien = etablissement.regie_iban
    with django_capture_on_commit_callbacks(execute=True):
        changement = services.proposer_changement_compte(
            etablissement=etablissement,
            titulaire="Régie du CP de Fresnes",
            iban=NOUVEL_IBAN,
            motif="Changement de teneur de compte (DRFiP)",
            auteur=regisseur,
        )
    etablissement.refresh_from_db()
    assert etablissement.regie_iban == ancien  # nothing changes until approved
    assert [m.to for m in mail.outbox] == [["chef@example.fr"]]
    with pytest.raises(OperationInterdite, match="déjà en attente"):
        services.proposer_changement_compte(
            etablissement=etablissement,
            titulaire="X",
            iban=IBAN_PROCHE,
            motif="x",
            auteur=chef,
        )
    with pytest.raises(DroitsInsuffisants):
        services.approuver_changement_compte(changement=changement, auteur=regisseur)
    with django_capture_on_commit_callbacks(execute=True):
        services.approuver_changement_compte(changement=changement, auteur=chef)
    etablissement.refresh_from_db()
    assert etablissement.regie_iban == NOUVEL_IBAN
    changement.refresh_from_db()
    assert (changement.statut, changement.ancien_iban) == (
        StatutChangementCompte.APPROUVE,
        ancien,
    )
    assert len(mail.outbox) == 2


def test_qui_propose_ne_decide_pas(etablissement):
    chef = agent("Chef d'établissement", etablissement)
    changement = services.proposer_changement_compte(
        etablissement=etablissement,
        titulaire="Régie",
        iban=NOUVEL_IBAN,
        motif="Nouveau compte",
        auteur=chef,
    )
    with pytest.raises(SecondRegardRequis):
        services.approuver_changement_compte(changement=changement, auteur=chef)
    with pytest.raises(SecondRegardRequis):
        services.refuser_changement_compte(changement=changement, auteur=chef, motif="non")
    with pytest.raises(IntegrityError), transaction.atomic():
        ChangementCompteRegie.objects.filter(pk=changement.pk).update(
            statut=StatutChangementCompte.APPROUVE, decide_par=chef, decide_le=timezone.now()
        )


def test_un_compte_de_regie_invalide_est_refuse(etablissement, chef):
    with pytest.raises(CoordonneesBancairesInvalides):
        services.proposer_changement_compte(
            etablissement=etablissement,
            titulaire="Régie",
            iban="FR76 3000 6000 0112 3456 7890 180",
            motif="x",
            auteur=chef,
        )
    with pytest.raises(CoordonneesBancairesInvalides, match="nom"):
        services.proposer_changement_compte(
            etablissement=etablissement, titulaire=" ", iban=NOUVEL_IBAN, motif="x", auteur=chef
        )
    assert not ChangementCompteRegie.objects.exists()


def test_le_deblocage_du_pecule_paie_un_ordre(compte, chef):
    compte.detenu.regime = Regime.SEMI_LIBERTE
    compte.detenu.save()
    ecriture = services.debloquer_pecule_liberation(
        compte=compte,
        montant=D("40.00"),
        source="deb",
        motif="Caution du logement",
        auteur=chef,
        beneficiaire="Agence du logement",
        iban=IBAN_FOURNISSEUR,
    )
    ordre = ecriture.ordres_virement.get()
    assert (ordre.nature, ordre.montant) == (NatureOrdre.DEBLOCAGE_PECULE, D("40.00"))
    assert parts(compte) == (D("90.00"), D("0.00"), D("470.00"))


# --- Every outgoing movement of the ledger is paid by an order ---------------------------

# The counterparts outside the régie's accounting: the money leaves the régie's bank account.
SORTIES = {
    Contrepartie.EXTERIEUR,
    Contrepartie.PARTIES_CIVILES,
    Contrepartie.FGTI,
    Contrepartie.EMETTEUR,
    Contrepartie.ETABLISSEMENT,
    Contrepartie.TRESOR,
    Contrepartie.CREANCIER_SAISISSANT,
    Contrepartie.AYANTS_DROIT,
}


def test_chaque_sortie_d_argent_a_son_ordre(etablissement, regisseur, chef, time_machine):
    """Every outgoing service, once; then, entry by entry, the money that left towards an
    outside account (counterpart lines above, the D.422 supplier too) is exactly what the
    entry's payment orders pay. Cash handed to the person and internal debits (canteen)
    have none."""
    time_machine.move_to(datetime.datetime(2026, 7, 1, 10, tzinfo=datetime.UTC))

    def compte_garni(**faits):
        compte = DetenuFactory(etablissement=etablissement, **faits).compte
        services.encaisser_recette(
            compte=compte,
            montant=D("3000.00"),
            nature=NatureEcriture.SALAIRE,
            source=f"paie-{compte.pk}",
            motif="Paie",
            auteur=regisseur,
        )
        return CompteNominatif.objects.get(pk=compte.pk)

    ibans = {"iban": IBAN_PROCHE}
    a = compte_garni()
    # The pécule (10 % of 2 800 = 280) is released under a sentence adjustment only.
    a.detenu.__class__.objects.filter(pk=a.detenu_id).update(regime=Regime.SEMI_LIBERTE)
    a = CompteNominatif.objects.get(pk=a.pk)
    envoi(a, regisseur)
    services.debiter_part_disponible(
        compte=a,
        montant=D("5.00"),
        nature=NatureEcriture.CANTINE,
        source="cantine",
        motif="Cantine",
        auteur=regisseur,
    )
    services.payer_parties_civiles(
        compte=a,
        montant=D("20.00"),
        beneficiaire="V",
        source="pv",
        motif="r",
        auteur=regisseur,
        **ibans,
    )
    services.debloquer_pecule_liberation(
        compte=a, montant=D("10.00"), source="dp", motif="r", auteur=chef, beneficiaire="B", **ibans
    )
    autorisation = services.demander_d422(
        detenu=a.detenu,
        montant=D("100.00"),
        objet="Lunettes",
        emetteur_attendu="Sa sœur",
        reliquat=ChoixReliquat.RESTITUER,
        date_demande=JOUR,
        auteur=regisseur,
    )
    services.decider_d422(autorisation=autorisation, accorder=True, motif="ok", auteur=chef)
    services.encaisser_subside_d422(
        autorisation=autorisation, montant=D("100.00"), source="s", motif="v", auteur=regisseur
    )
    services.payer_depense_d422(
        autorisation=autorisation,
        montant=D("60.00"),
        source="dep",
        motif="Opticien",
        auteur=regisseur,
        fournisseur="Optique",
        **ibans,
    )
    services.cloturer_d422(
        autorisation=autorisation,
        auteur=regisseur,
        emetteur_nom="Sa sœur",
        emetteur_iban=IBAN_PROCHE,
    )
    saisie = services.enregistrer_saisie(
        compte=a,
        creancier="Société X",
        reference_acte="Acte 1",
        date_acte=JOUR,
        montant_cause=D("30.00"),
        montant_laisse=0,
        auteur=regisseur,
    )
    services.payer_saisie(saisie=saisie, montant=D("30.00"), auteur=regisseur, source="sa", **ibans)
    services.placer_sous_contrainte_judiciaire(
        detenu=a.detenu, date_debut=JOUR, montant_dette=D("15.00"), reference="R", auteur=regisseur
    )
    a.detenu.__class__.objects.filter(pk=a.detenu_id).update(victimes_indemnisees_ou_absentes=True)
    services.payer_dette_contrainte_judiciaire(
        compte=a, montant=D("15.00"), auteur=chef, source="cj", piece="Demande"
    )
    services.transferer_detenu(
        detenu=a.detenu,
        vers=EtablissementFactory(code="AUT", regie_iban=IBAN_FOURNISSEUR),
        nouveau_numero_ecrou="T1",
        auteur=regisseur,
    )
    b = compte_garni()
    services.liquider_a_la_liberation(
        compte=b, auteur=regisseur, date_liberation=JOUR, mode_remise="virement", **ibans
    )
    c = compte_garni()
    services.constater_deces(detenu=c.detenu, date_deces=JOUR, auteur=regisseur, reference="AD")
    services.remettre_aux_ayants_droit(
        compte=c, beneficiaire="Notaire", piece="Acte", auteur=regisseur, source="ad", **ibans
    )
    d = compte_garni()
    services.constater_evasion(
        detenu=d.detenu,
        date_evasion=JOUR,
        reste_du_parties_civiles=D("100.00"),
        auteur=regisseur,
        reference="CR",
    )

    verifiees = set()
    for ecriture in Ecriture.objects.prefetch_related("lignes", "ordres_virement"):
        sortie = sum(
            (
                ligne.montant
                for ligne in ecriture.lignes.all()
                if ligne.contrepartie in SORTIES
                or (
                    ecriture.nature == NatureEcriture.DEPENSE_D422
                    and ligne.contrepartie == Contrepartie.FOURNISSEUR
                )
            ),
            D("0.00"),
        )
        ordres = sum((o.montant for o in ecriture.ordres_virement.all()), D("0.00"))
        if ecriture.nature == NatureEcriture.TRANSFERT_ENTRANT:
            continue  # the credit at the destination: the sortie pays
        assert ordres == max(sortie, D("0.00")), (ecriture.nature, sortie, ordres)
        if ordres:
            verifiees.add(ecriture.nature)
    assert verifiees == {
        NatureEcriture.VIREMENT_SORTANT,
        NatureEcriture.PAIEMENT_VICTIMES,
        NatureEcriture.DEBLOCAGE_PECULE,
        NatureEcriture.DEPENSE_D422,
        NatureEcriture.RELIQUAT_D422,
        NatureEcriture.SAISIE_ATTRIBUTION,
        NatureEcriture.CONTRAINTE_JUDICIAIRE,
        NatureEcriture.TRANSFERT_SORTANT,
        NatureEcriture.LIBERATION,
        NatureEcriture.REMISE_AYANTS_DROIT,
        NatureEcriture.EVASION,
    }
