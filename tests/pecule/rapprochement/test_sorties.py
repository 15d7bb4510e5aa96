"""Closing the loop of money out (spec 05 §3): the debit lines of the régie's statement
prove its orders paid (end-to-end id, then reference and amount), the bank's pain.002
rejects some (money put back, the régisseurs told), a returned transfer's relative is
told once the bank paid it back. Bad files change nothing."""

import datetime
from decimal import Decimal as D

import pytest
from django.core import mail
from lxml import etree

from pecule import services as pecule_services
from pecule.models import (
    CourrielSortant,
    EtatProche,
    RapportPain002,
    StatutRapprochement,
    Virement,
)
from pecule.rapprochement import services
from regie import services as regie
from regie.models import CompteNominatif, NatureEcriture, OrdreVirement, StatutOrdre
from tests.factories import IBAN_PROCHE, DetenuFactory, EtablissementFactory, agent
from tests.pecule.rapprochement import fabriques
from tests.pecule.rapprochement.camt_factory import JOUR, debit_ordre, releve_camt053

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("roles_rapprochement")]

IBAN_A = "FR7630006000011234567890189"
NS_002 = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"


@pytest.fixture
def etab():
    return EtablissementFactory(code="RA", nom="Maison d'arrêt A", regie_iban=IBAN_A)


@pytest.fixture
def regisseur(etab):
    regisseur = agent("Régisseur", etab)
    regisseur.email = "regisseur@example.fr"
    regisseur.save()
    return regisseur


@pytest.fixture
def chef(etab):
    return agent("Chef d'établissement", etab)


@pytest.fixture
def compte(etab, regisseur):
    compte = DetenuFactory(etablissement=etab).compte
    regie.encaisser_recette(
        compte=compte,
        montant=D("500.00"),
        nature=NatureEcriture.SALAIRE,
        source="paie",
        motif="Paie",
        auteur=regisseur,
        date_operation=JOUR,
    )
    return CompteNominatif.objects.get(pk=compte.pk)


def transmis(compte, regisseur, chef, *montants):
    """Orders of the account, validated, batched and transmitted."""
    ordres = []
    for rang, montant in enumerate(montants):
        ecriture = regie.debiter_part_disponible(
            compte=compte,
            montant=D(montant),
            nature=NatureEcriture.VIREMENT_SORTANT,
            source=f"envoi-{compte.pk}-{rang}",
            motif="Envoi à sa mère",
            auteur=regisseur,
            beneficiaire="Mme Jeanne MARTIN",
            iban=IBAN_PROCHE,
        )
        ordres.append(regie.valider_ordre(ordre=ecriture.ordres_virement.get(), auteur=chef))
    remise = regie.constituer_remise(etablissement=compte.detenu.etablissement, auteur=regisseur)
    regie.transmettre_remise(remise=remise, auteur=regisseur)
    return remise, [OrdreVirement.objects.get(pk=o.pk) for o in ordres]


def importer(etab, regisseur, ecritures, **options):
    contenu = releve_camt053(iban=etab.regie_iban, ecritures=ecritures, **options)
    return services.importer_releve(etablissement=etab, fichier=contenu, auteur=regisseur)


def test_le_debit_prouve_l_ordre_paye(etab, regisseur, chef, compte):
    _, (premier, second) = transmis(compte, regisseur, chef, "40.00", "25.00")
    releve = importer(
        etab,
        regisseur,
        [
            debit_ordre("40.00", e2e=premier.reference, reference="BQ-D1", iban=IBAN_PROCHE),
            # Our reference only in the remittance text, with the same amount.
            debit_ordre("25.00", libelle=f"VIR {second.reference} MARTIN", reference="BQ-D2"),
        ],
    )
    lignes = list(releve.lignes.order_by("position"))
    assert [ligne.statut_rapprochement for ligne in lignes] == [StatutRapprochement.RAPPROCHEE] * 2
    assert [ligne.ordre for ligne in lignes] == [premier, second]
    assert lignes[0].iban_crediteur == IBAN_PROCHE
    for ordre in (premier, second):
        ordre.refresh_from_db()
        assert (ordre.statut, ordre.execute_le) == (StatutOrdre.EXECUTE, JOUR)
    # An overlapping statement repeats a debit: kept as a duplicate, never twice.
    encore = importer(
        etab,
        regisseur,
        [debit_ordre("40.00", e2e=premier.reference, reference="BQ-D1")],
        identifiant="STMT-BIS",
    )
    assert encore.lignes.get().statut_rapprochement == StatutRapprochement.IGNOREE


def test_les_debits_qui_ne_prouvent_rien(etab, regisseur, chef, compte):
    _, (ordre,) = transmis(compte, regisseur, chef, "40.00")
    autre = EtablissementFactory(code="RB", regie_iban="FR1420041010050500013M02606")
    regisseur_b = agent("Régisseur", autre)
    compte_b = DetenuFactory(etablissement=autre).compte
    regie.encaisser_recette(
        compte=compte_b,
        montant=D("50.00"),
        nature=NatureEcriture.SALAIRE,
        source="paie-b",
        motif="Paie",
        auteur=regisseur_b,
        date_operation=JOUR,
    )
    _, (ordre_b,) = transmis(compte_b, regisseur_b, agent("Chef d'établissement", autre), "5.00")
    # Wrong amount; an unknown order; another régie's order; a bank fee.
    releve = importer(
        etab,
        regisseur,
        [
            debit_ordre("41.00", e2e=ordre.reference),
            debit_ordre("10.00", e2e="ORD-ZZZZ-ZZZZ"),
            debit_ordre("5.00", e2e=ordre_b.reference),
            debit_ordre("9.00", libelle="COMMISSION"),
        ],
    )
    lignes = list(releve.lignes.order_by("position"))
    assert [ligne.statut_rapprochement for ligne in lignes] == [
        StatutRapprochement.MONTANT_DIFFERENT,
        StatutRapprochement.NON_RAPPROCHEE,
        StatutRapprochement.NON_RAPPROCHEE,
        StatutRapprochement.NON_RAPPROCHEE,
    ]
    assert "écart 1,00" in lignes[0].note
    assert "inconnu du portail" in lignes[1].note
    assert "autre régie" in lignes[2].note and lignes[2].ordre is None
    assert lignes[3].note == "Débit sans ordre de virement du portail."
    for un_ordre in (ordre, ordre_b):
        un_ordre.refresh_from_db()
        assert un_ordre.statut == StatutOrdre.TRANSMIS  # not proven paid
    assert set(services.lignes_non_rapprochees(etab)) == set(lignes[1:])
    assert list(services.ecarts_de_montant(etab)) == [lignes[0]]


def test_un_ordre_pas_encore_transmis_n_est_pas_paye(etab, regisseur, chef, compte):
    ecriture = regie.debiter_part_disponible(
        compte=compte,
        montant=D("30.00"),
        nature=NatureEcriture.VIREMENT_SORTANT,
        source="envoi-x",
        motif="Envoi",
        auteur=regisseur,
        beneficiaire="X",
        iban=IBAN_PROCHE,
    )
    ordre = regie.valider_ordre(ordre=ecriture.ordres_virement.get(), auteur=chef)
    releve = importer(etab, regisseur, [debit_ordre("30.00", e2e=ordre.reference)])
    ligne = releve.lignes.get()
    assert ligne.statut_rapprochement == StatutRapprochement.NON_RAPPROCHEE
    assert "validé" in ligne.note and ligne.ordre is None


def test_les_ordres_transmis_sans_ligne(etab, regisseur, chef, compte, time_machine):
    time_machine.move_to(datetime.datetime(2026, 7, 1, 10, tzinfo=datetime.UTC))  # Wednesday
    _, (ordre,) = transmis(compte, regisseur, chef, "40.00")
    assert list(services.ordres_transmis_sans_ligne(etab, 3)) == []
    # Three business days later (Wednesday → Monday): still no debit line.
    time_machine.move_to(datetime.datetime(2026, 7, 6, 10, tzinfo=datetime.UTC))
    assert list(services.ordres_transmis_sans_ligne(etab, 3)) == [ordre]


def test_le_proche_est_prevenu_quand_le_retour_est_paye(etab, regisseur, chef, fournisseur_memoire):
    virement = fabriques.virement(etab, "60.00")
    virement.statut_regie = "a_traiter"
    virement.save(update_fields=["statut_regie"])
    virement = pecule_services.retourner_virement(
        virement=virement, auteur=regisseur, motif="Permis retiré", iban=IBAN_PROCHE
    )
    regie.valider_ordre(ordre=virement.ordre_retour, auteur=chef)
    remise = regie.constituer_remise(etablissement=etab, auteur=regisseur)
    regie.transmettre_remise(remise=remise, auteur=regisseur)
    assert not CourrielSortant.objects.filter(cle=f"retourne:{virement.reference}").exists()
    importer(etab, regisseur, [debit_ordre("60.00", e2e=virement.ordre_retour.reference)])
    courriel = CourrielSortant.objects.get(cle=f"retourne:{virement.reference}")
    assert "Permis retiré" in courriel.corps and JOUR.strftime("%d/%m/%Y") in courriel.corps
    virement.refresh_from_db()
    assert virement.etat_proche == EtatProche.RETOURNE


def test_l_historique_du_proche_dit_pourquoi_et_quand_l_argent_est_revenu(
    client, etab, regisseur, chef, fournisseur_memoire
):
    """Issue 13 item 7: a returned transfer says why (the régisseur's reason) and, once the
    régie's bank executed the return, the day the money was sent back; before that, that
    the return is on its way (never a date the bank has not given)."""
    from django.urls import reverse

    virement = fabriques.virement(etab, "60.00")
    virement.statut_regie = "a_traiter"
    virement.save(update_fields=["statut_regie"])
    virement = pecule_services.retourner_virement(
        virement=virement, auteur=regisseur, motif="Permis retiré", iban=IBAN_PROCHE
    )
    client.force_login(virement.proche)

    def page():
        return client.get(reverse("pecule:historique")).content.decode()

    avant = page()
    assert "Motif du retour : Permis retiré" in avant
    assert "Renvoi en cours" in avant and "Renvoyé sur votre compte bancaire" not in avant
    regie.valider_ordre(ordre=virement.ordre_retour, auteur=chef)
    remise = regie.constituer_remise(etablissement=etab, auteur=regisseur)
    regie.transmettre_remise(remise=remise, auteur=regisseur)
    importer(etab, regisseur, [debit_ordre("60.00", e2e=virement.ordre_retour.reference)])
    apres = page()
    assert f"Renvoyé sur votre compte bancaire le {JOUR:%d/%m/%Y}" in apres
    assert "Renvoi en cours" not in apres


# --- pain.002 ----------------------------------------------------------------------------


def pain002(remise, statuts: dict[str, tuple[str, str]], *, groupe="PART", msg="RPT-1") -> bytes:
    """The bank's report: {end-to-end id: (TxSts, reason code)}; written here with lxml,
    valid against the official XSD."""

    def el(parent, nom, texte=None):
        element = etree.SubElement(parent, f"{{{NS_002}}}{nom}")
        if texte is not None:
            element.text = texte
        return element

    racine = etree.Element(f"{{{NS_002}}}Document", nsmap={None: NS_002})
    rapport = el(racine, "CstmrPmtStsRpt")
    entete = el(rapport, "GrpHdr")
    el(entete, "MsgId", msg)
    el(entete, "CreDtTm", "2026-07-02T09:00:00+02:00")
    groupe_el = el(rapport, "OrgnlGrpInfAndSts")
    el(groupe_el, "OrgnlMsgId", remise.reference)
    el(groupe_el, "OrgnlMsgNmId", "pain.001.001.03")
    el(groupe_el, "GrpSts", groupe)
    if statuts:
        lot = el(rapport, "OrgnlPmtInfAndSts")
        el(lot, "OrgnlPmtInfId", "LOT-1")
        for reference, (statut, code) in statuts.items():
            tx = el(lot, "TxInfAndSts")
            el(tx, "OrgnlEndToEndId", reference)
            el(tx, "TxSts", statut)
            if code:
                el(el(el(tx, "StsRsnInf"), "Rsn"), "Cd", code)
    return etree.tostring(racine, xml_declaration=True, encoding="UTF-8")


def test_le_rejet_remet_l_argent_et_previent_les_regisseurs(
    etab, regisseur, chef, compte, django_capture_on_commit_callbacks
):
    remise, (rejete, accepte) = transmis(compte, regisseur, chef, "40.00", "25.00")
    avant = CompteNominatif.objects.get(pk=compte.pk).part_disponible
    fichier = pain002(remise, {rejete.reference: ("RJCT", "AC04"), accepte.reference: ("ACSC", "")})
    with django_capture_on_commit_callbacks(execute=True):
        rapport = services.importer_rapport_pain002(
            etablissement=etab, fichier=fichier, auteur=regisseur
        )
    assert (rapport.remise, rapport.nombre_rejets) == (remise, 1)
    rejete.refresh_from_db()
    accepte.refresh_from_db()
    assert (rejete.statut, rejete.code_rejet, rejete.motif_rejet) == (
        StatutOrdre.REJETE,
        "AC04",
        "compte clos",
    )
    assert accepte.statut == StatutOrdre.TRANSMIS  # the statement proves it paid
    compte.refresh_from_db()
    assert compte.part_disponible == avant + D("40.00")
    assert mail.outbox and "regisseur@example.fr" in mail.outbox[0].to
    assert rejete.reference in mail.outbox[0].body
    with pytest.raises(services.ReleveDejaImporte):
        services.importer_rapport_pain002(etablissement=etab, fichier=fichier, auteur=regisseur)
    compte.refresh_from_db()
    assert compte.part_disponible == avant + D("40.00")


@pytest.mark.parametrize(
    "fabriquer",
    [
        lambda remise, ordre: pain002(remise, {"ORD-INCO-NNUE": ("RJCT", "AC01")}),
        lambda remise, ordre: pain002(remise, {ordre.reference: ("RJCT", "AC01")}).replace(
            remise.reference.encode(), b"REM-AUTRE"
        ),
        lambda remise, ordre: b"<Document/>",
        lambda remise, ordre: pain002(remise, {ordre.reference: ("RJCT", "AC01")}).replace(
            b"<TxSts>RJCT</TxSts>", b"<TxSts>RJCT</TxSts><TxSts>ACSC</TxSts>"
        ),
    ],
    ids=["ordre-inconnu", "remise-inconnue", "pas-un-pain002", "hors-schema"],
)
def test_un_mauvais_compte_rendu_ne_change_rien(etab, regisseur, chef, compte, fabriquer):
    remise, (ordre,) = transmis(compte, regisseur, chef, "40.00")
    avant = CompteNominatif.objects.get(pk=compte.pk).part_disponible
    with pytest.raises(services.RapportRefuse):
        services.importer_rapport_pain002(
            etablissement=etab, fichier=fabriquer(remise, ordre), auteur=regisseur
        )
    ordre.refresh_from_db()
    assert ordre.statut == StatutOrdre.TRANSMIS
    assert CompteNominatif.objects.get(pk=compte.pk).part_disponible == avant
    assert not RapportPain002.objects.exists()


def test_une_remise_rejetee_en_bloc(etab, regisseur, chef, compte):
    remise, _ordres = transmis(compte, regisseur, chef, "40.00", "25.00")
    services.importer_rapport_pain002(
        etablissement=etab, fichier=pain002(remise, {}, groupe="RJCT"), auteur=regisseur
    )
    assert {o.statut for o in OrdreVirement.objects.filter(remise=remise)} == {StatutOrdre.REJETE}


def test_un_retour_rejete_revient_a_traiter(etab, regisseur, chef, fournisseur_memoire):
    virement = fabriques.virement(etab, "60.00")
    virement.statut_regie = "a_traiter"
    virement.save(update_fields=["statut_regie"])
    virement = pecule_services.retourner_virement(
        virement=virement, auteur=regisseur, motif="Permis retiré", iban=IBAN_PROCHE
    )
    regie.valider_ordre(ordre=virement.ordre_retour, auteur=chef)
    remise = regie.constituer_remise(etablissement=etab, auteur=regisseur)
    regie.transmettre_remise(remise=remise, auteur=regisseur)
    services.importer_rapport_pain002(
        etablissement=etab,
        fichier=pain002(remise, {virement.ordre_retour.reference: ("RJCT", "AC01")}),
        auteur=regisseur,
    )
    virement.refresh_from_db()
    assert virement.est_a_traiter
    assert list(Virement.objects.a_traiter().filter(etablissement=etab)) == [virement]
