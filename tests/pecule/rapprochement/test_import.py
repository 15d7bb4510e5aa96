"""Importing the régie's statement: checks before anything is written, matching of the
credit lines to the transfers, idempotency, overlapping statements."""

from decimal import Decimal as D

import pytest

from pecule.models import (
    EvenementVirement,
    LigneReleve,
    ReleveBancaire,
    StatutPaiement,
    StatutRapprochement,
    Virement,
)
from pecule.rapprochement import services
from regie.exceptions import DroitsInsuffisants
from tests.factories import EtablissementFactory, agent
from tests.pecule.rapprochement import fabriques
from tests.pecule.rapprochement.camt_factory import (
    Ecriture,
    Transaction,
    credit,
    debit,
    releve_camt053,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("roles_rapprochement")]

IBAN_A = "FR7630006000011234567890189"
IBAN_B = "FR7617569000306571524325K06"


@pytest.fixture
def etab():
    return EtablissementFactory(code="RA", nom="Maison d'arrêt A", regie_iban=IBAN_A)


@pytest.fixture
def etab_b():
    return EtablissementFactory(code="RB", nom="Centre de détention B", regie_iban=IBAN_B)


@pytest.fixture
def regisseur(etab):
    return agent("Régisseur", etab)


def importer(etab, regisseur, ecritures, **options):
    contenu = releve_camt053(iban=etab.regie_iban, ecritures=ecritures, **options)
    return services.importer_releve(etablissement=etab, fichier=contenu, auteur=regisseur)


def etat_base():
    return (
        ReleveBancaire.objects.count(),
        LigneReleve.objects.count(),
        EvenementVirement.objects.count(),
        list(Virement.objects.order_by("pk").values()),
    )


def ligne_unique(releve) -> LigneReleve:
    (ligne,) = releve.lignes.all()
    return ligne


# --- Matching --------------------------------------------------------------------------


def test_rapprochement_par_reference_de_bout_en_bout(etab, regisseur):
    virement = fabriques.virement(etab, "50.00")
    avant = Virement.objects.filter(pk=virement.pk).values().get()
    releve = importer(etab, regisseur, [credit("50.00", e2e=virement.reference, reference="BQ-1")])

    ligne = ligne_unique(releve)
    assert ligne.statut_rapprochement == StatutRapprochement.RAPPROCHEE
    assert ligne.virement == virement
    assert ligne.reference_bout_en_bout == virement.reference
    assert ligne.nom_debiteur == "DUBOIS ANGELA"
    assert ligne.iban_debiteur == "FR7610107001011234567890129"
    assert ligne.reference_banque == "BQ-1"
    assert "référence de bout en bout" in ligne.note
    assert releve.coherent and releve.importe_par == regisseur
    assert (releve.solde_ouverture, releve.solde_cloture) == (D("1000.00"), D("1050.00"))
    # The transfer is only told, through its log; its fields are untouched.
    assert Virement.objects.filter(pk=virement.pk).values().get() == avant
    (evenement,) = EvenementVirement.objects.filter(virement=virement)
    assert evenement.source == "releve"
    assert evenement.apres == StatutRapprochement.RAPPROCHEE
    assert evenement.auteur == regisseur
    assert "50,00 € reçus" in evenement.details and "BQ-1" in evenement.details


def test_rapprochement_par_le_libelle_quand_pas_de_reference_de_bout_en_bout(etab, regisseur):
    virement = fabriques.virement(etab, "35.00")
    libelle = f"VIR SEPA ECROU 123456 MARTIN Luc {virement.reference} /FRM DUBOIS"
    releve = importer(etab, regisseur, [credit("35.00", e2e="NOTPROVIDED", libelle=libelle)])

    ligne = ligne_unique(releve)
    assert ligne.reference_bout_en_bout == ""
    assert ligne.statut_rapprochement == StatutRapprochement.RAPPROCHEE
    assert ligne.virement == virement
    assert "référence du libellé" in ligne.note


def test_reference_de_bout_en_bout_etrangere_puis_libelle(etab, regisseur):
    virement = fabriques.virement(etab, "35.00")
    releve = importer(
        etab,
        regisseur,
        [credit("35.00", e2e="BANQUE-123", libelle=f"ECROU 1 X Y {virement.reference.lower()}")],
    )
    ligne = ligne_unique(releve)
    assert ligne.virement == virement
    assert ligne.statut_rapprochement == StatutRapprochement.RAPPROCHEE


def test_ecart_de_montant(etab, regisseur):
    virement = fabriques.virement(etab, "50.00")
    releve = importer(etab, regisseur, [credit("45.00", e2e=virement.reference)])

    ligne = ligne_unique(releve)
    assert ligne.statut_rapprochement == StatutRapprochement.MONTANT_DIFFERENT
    assert ligne.virement == virement
    assert "Montant reçu 45,00 €, montant du virement 50,00 € (écart -5,00 €)" in ligne.note
    assert list(services.ecarts_de_montant(etab)) == [ligne]
    assert (
        EvenementVirement.objects.get(virement=virement).apres
        == StatutRapprochement.MONTANT_DIFFERENT
    )


def test_ligne_non_rapprochee(etab, regisseur):
    releve = importer(etab, regisseur, [credit("20.00", e2e="PEC-ZZZZ-ZZZZ")])
    ligne = ligne_unique(releve)
    assert ligne.statut_rapprochement == StatutRapprochement.NON_RAPPROCHEE
    assert ligne.virement is None
    assert "PEC-ZZZZ-ZZZZ" in ligne.note and "inconnue" in ligne.note
    assert list(services.lignes_non_rapprochees(etab)) == [ligne]


def test_reference_d_un_autre_etablissement(etab, etab_b, regisseur):
    ailleurs = fabriques.virement(etab_b, "20.00")
    releve = importer(etab, regisseur, [credit("20.00", e2e=ailleurs.reference)])
    ligne = ligne_unique(releve)
    assert ligne.statut_rapprochement == StatutRapprochement.NON_RAPPROCHEE
    assert ligne.virement is None
    assert "autre établissement (Centre de détention B)" in ligne.note
    assert not EvenementVirement.objects.filter(virement=ailleurs).exists()


def test_plusieurs_references_dans_le_libelle(etab, regisseur):
    v1, v2 = fabriques.virement(etab, "10.00"), fabriques.virement(etab, "10.00")
    releve = importer(etab, regisseur, [credit("20.00", libelle=f"{v1.reference} {v2.reference}")])
    ligne = ligne_unique(releve)
    assert ligne.statut_rapprochement == StatutRapprochement.NON_RAPPROCHEE
    assert "Plusieurs références" in ligne.note


def test_credit_hors_portail_ignore_debit_sans_ordre_a_examiner(etab, regisseur):
    """A credit without a portal reference is not the portal's business (wages…); a debit
    of the régie's account without a payment order of the portal is listed: money left
    the régie without an approved order (spec 05 §3)."""
    releve = importer(
        etab,
        regisseur,
        [
            debit("12.00"),
            credit("300.00", e2e="SALAIRES-JUIN", libelle="REMUNERATION TRAVAIL PENITENTIAIRE"),
        ],
    )
    lignes = list(releve.lignes.order_by("position"))
    assert [ligne.statut_rapprochement for ligne in lignes] == [
        StatutRapprochement.NON_RAPPROCHEE,
        StatutRapprochement.IGNOREE,
    ]
    assert lignes[0].note == "Débit sans ordre de virement du portail."
    assert lignes[1].note == "Crédit sans référence du portail."
    assert releve.total_debits == D("12.00") and releve.total_credits == D("300.00")
    assert list(services.lignes_non_rapprochees(etab)) == [lignes[0]]


def test_virement_deja_rapproche_par_une_autre_ligne(etab, regisseur):
    virement = fabriques.virement(etab, "50.00")
    releve = importer(
        etab,
        regisseur,
        [
            credit("50.00", e2e=virement.reference, reference="BQ-1"),
            credit("50.00", e2e=virement.reference, reference="BQ-2"),
        ],
    )
    premiere, seconde = releve.lignes.order_by("position")
    assert premiere.statut_rapprochement == StatutRapprochement.RAPPROCHEE
    assert seconde.statut_rapprochement == StatutRapprochement.NON_RAPPROCHEE
    assert seconde.virement == virement
    assert "déjà rapproché de la ligne 1" in seconde.note
    assert EvenementVirement.objects.filter(virement=virement).count() == 2


def test_virement_annonce_en_echec_mais_somme_recue(etab, regisseur):
    virement = fabriques.virement(etab, "50.00", statut_paiement=StatutPaiement.REFUSE)
    releve = importer(etab, regisseur, [credit("50.00", e2e=virement.reference)])
    ligne = ligne_unique(releve)
    assert ligne.statut_rapprochement == StatutRapprochement.NON_RAPPROCHEE
    assert ligne.virement == virement
    assert "« Refusé »" in ligne.note


def test_virement_pas_encore_confirme_par_le_prestataire(etab, regisseur):
    virement = fabriques.virement(etab, "50.00", statut_paiement=StatutPaiement.AUTORISE)
    releve = importer(etab, regisseur, [credit("50.00", e2e=virement.reference)])
    ligne = ligne_unique(releve)
    assert ligne.statut_rapprochement == StatutRapprochement.RAPPROCHEE
    assert "pas encore confirmée" in ligne.note


def test_ecriture_groupee_detaillee(etab, regisseur):
    v1, v2 = fabriques.virement(etab, "10.00"), fabriques.virement(etab, "20.00")
    releve = importer(
        etab,
        regisseur,
        [
            Ecriture(
                montant="30.00",
                reference="LOT-1",
                transactions=[
                    Transaction(montant="10.00", e2e=v1.reference),
                    Transaction(montant="20.00", e2e=v2.reference),
                ],
            )
        ],
    )
    lignes = list(releve.lignes.order_by("sous_position"))
    assert [(ligne.position, ligne.sous_position) for ligne in lignes] == [(1, 1), (1, 2)]
    assert [ligne.virement for ligne in lignes] == [v1, v2]
    assert {ligne.statut_rapprochement for ligne in lignes} == {StatutRapprochement.RAPPROCHEE}


# --- Idempotency and overlapping statements ---------------------------------------------


def test_meme_fichier_deux_fois(etab, regisseur):
    virement = fabriques.virement(etab, "50.00")
    contenu = releve_camt053(
        iban=IBAN_A, ecritures=[credit("50.00", e2e=virement.reference), debit("5.00")]
    )
    premier = services.importer_releve(etablissement=etab, fichier=contenu, auteur=regisseur)
    avant = etat_base()

    with pytest.raises(services.ReleveDejaImporte, match="déjà été importé") as erreur:
        services.importer_releve(etablissement=etab, fichier=contenu, auteur=regisseur)
    assert "rien n'a été modifié" in erreur.value.message
    assert erreur.value.releve == premier
    assert etat_base() == avant


def test_meme_releve_telecharge_de_nouveau_plus_tard(etab, regisseur):
    """The same statement (same bank id) in a new file, with one more line: accepted,
    the line already imported is recognised by its bank reference."""
    v1, v2 = fabriques.virement(etab, "10.00"), fabriques.virement(etab, "20.00")
    premier = importer(
        etab, regisseur, [credit("10.00", e2e=v1.reference, reference="BQ-1")], msg_id="MSG-1"
    )
    second = importer(
        etab,
        regisseur,
        [
            credit("10.00", e2e=v1.reference, reference="BQ-1"),
            credit("20.00", e2e=v2.reference, reference="BQ-2"),
        ],
        msg_id="MSG-2",
    )
    assert premier.identifiant == second.identifiant
    deja, nouvelle = second.lignes.order_by("position")
    assert deja.doublon_de == premier.lignes.get()
    assert deja.statut_rapprochement == StatutRapprochement.IGNOREE
    assert nouvelle.virement == v2
    assert nouvelle.statut_rapprochement == StatutRapprochement.RAPPROCHEE
    assert EvenementVirement.objects.filter(virement=v1).count() == 1


def test_sans_reference_bancaire_pas_de_second_rapprochement(etab, regisseur):
    virement = fabriques.virement(etab, "10.00")
    importer(etab, regisseur, [credit("10.00", e2e=virement.reference)], identifiant="S-1")
    second = importer(etab, regisseur, [credit("10.00", e2e=virement.reference)], identifiant="S-2")
    ligne = ligne_unique(second)
    assert ligne.doublon_de is None
    assert ligne.statut_rapprochement == StatutRapprochement.NON_RAPPROCHEE
    assert "déjà rapproché" in ligne.note


def test_releves_qui_se_chevauchent(etab, regisseur):
    virement = fabriques.virement(etab, "50.00")
    premier = importer(
        etab,
        regisseur,
        [credit("50.00", e2e=virement.reference, reference="BQ-1")],
        identifiant="STMT-1",
    )
    second = importer(
        etab,
        regisseur,
        [
            credit("50.00", e2e=virement.reference, reference="BQ-1"),
            credit("8.00", reference="BQ-2"),
        ],
        identifiant="STMT-2",
        ouverture="1000.00",
    )
    doublon = second.lignes.get(position=1)
    assert doublon.statut_rapprochement == StatutRapprochement.IGNOREE
    assert doublon.doublon_de == premier.lignes.get()
    assert doublon.virement is None
    assert "Déjà importée" in doublon.note
    assert EvenementVirement.objects.filter(virement=virement).count() == 1
    assert LigneReleve.objects.filter(virement=virement).count() == 1


def test_chevauchement_avec_un_autre_montant_refuse(etab, regisseur):
    importer(etab, regisseur, [credit("50.00", reference="BQ-1")], identifiant="STMT-1")
    avant = etat_base()
    with pytest.raises(services.ReleveRefuse, match=r"BQ-1, déjà importée .* autre montant"):
        importer(etab, regisseur, [credit("55.00", reference="BQ-1")], identifiant="STMT-2")
    assert etat_base() == avant


# --- Refusals: nothing is written ---------------------------------------------------------


def test_iban_d_un_autre_compte_refuse(etab, regisseur):
    fabriques.virement(etab, "50.00")
    avant = etat_base()
    contenu = releve_camt053(iban=IBAN_B, ecritures=[credit("50.00")])
    with pytest.raises(services.CompteIncorrect) as erreur:
        services.importer_releve(etablissement=etab, fichier=contenu, auteur=regisseur)
    assert erreur.value.message == (
        f"Ce relevé est celui du compte {IBAN_B}, et non celui de la régie de "
        f"Maison d'arrêt A ({IBAN_A}) : il n'a pas été importé."
    )
    assert etat_base() == avant


def test_soldes_incoherents_refuses(etab, regisseur):
    avant = etat_base()
    with pytest.raises(services.ReleveIncoherent) as erreur:
        importer(etab, regisseur, [credit("50.00"), debit("20.00")], cloture="1040.00")
    assert (
        "solde d'ouverture 1\u202f000,00 € + crédits 50,00 € − débits 20,00 € = "
        "1\u202f030,00 €, mais le solde de clôture annoncé est 1\u202f040,00 € "
        "(écart 10,00 €)"
    ) in erreur.value.message
    assert etat_base() == avant


def test_resume_de_la_banque_contredit(etab, regisseur):
    contenu = releve_camt053(iban=IBAN_A, ecritures=[credit("50.00")], resume=True)
    contenu = contenu.replace(b"<NbOfNtries>1</NbOfNtries>", b"<NbOfNtries>2</NbOfNtries>")
    with pytest.raises(services.ReleveIncoherent, match="la banque annonce 2 crédits"):
        services.importer_releve(etablissement=etab, fichier=contenu, auteur=regisseur)
    assert not ReleveBancaire.objects.exists()


def test_fichier_illisible_refuse(etab, regisseur):
    with pytest.raises(services.ReleveRefuse, match="pas un document XML lisible"):
        services.importer_releve(etablissement=etab, fichier=b"<oups", auteur=regisseur)


def test_droits(etab, etab_b):
    contenu = releve_camt053(iban=IBAN_A, ecritures=[credit("50.00")])
    chef = agent("Chef d'établissement", etab)
    with pytest.raises(DroitsInsuffisants, match="importer un relevé bancaire"):
        services.importer_releve(etablissement=etab, fichier=contenu, auteur=chef)
    regisseur_b = agent("Régisseur", etab_b)
    with pytest.raises(DroitsInsuffisants, match="Maison d'arrêt A"):
        services.importer_releve(etablissement=etab, fichier=contenu, auteur=regisseur_b)
    assert not ReleveBancaire.objects.exists()


def test_version_001_08(etab, regisseur):
    virement = fabriques.virement(etab, "50.00")
    releve = importer(etab, regisseur, [credit("50.00", e2e=virement.reference)], version="08")
    assert releve.version == "camt.053.001.08"
    ligne = ligne_unique(releve)
    assert ligne.virement == virement and ligne.nom_debiteur == "DUBOIS ANGELA"
