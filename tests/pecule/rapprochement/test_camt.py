"""Reading camt.053 files: validated against the official XSD, read by namespace-aware
paths, hostile or foreign documents refused with a French message."""

import datetime
from decimal import Decimal as D

import pytest
from lxml import etree

from pecule.rapprochement.camt import CamtInvalide, lire_camt053
from tests.pecule.rapprochement.camt_factory import (
    Ecriture,
    Transaction,
    credit,
    debit,
    releve_camt053,
)

IBAN = "FR7630006000011234567890189"


def document(version="02", **options):
    return releve_camt053(
        iban=IBAN,
        ecritures=[
            credit(
                "50.00",
                e2e="PEC-ABCD-EF23",
                libelle="ECROU 123456 MARTIN Luc PEC-ABCD-EF23",
                reference="BQ-1",
            ),
            debit("12.30"),
            Ecriture(
                montant="30.00",
                ntry_ref="LOT-1",
                transactions=[
                    Transaction(montant="10.00", e2e="A-1"),
                    Transaction(montant="20.00", e2e="A-2"),
                ],
            ),
        ],
        version=version,
        **options,
    )


@pytest.mark.parametrize("version", ["02", "08"])
def test_lecture_complete(version):
    lu = lire_camt053(document(version, resume=True))
    assert lu.version == f"camt.053.001.{version}"
    assert lu.identifiant_message == "MSG-STMT-2025-06-16"
    (releve,) = lu.releves
    assert releve.identifiant == "STMT-2025-06-16"
    assert releve.iban == IBAN
    assert (releve.date_debut, releve.date_fin) == (datetime.date(2025, 6, 16),) * 2
    assert releve.solde_ouverture.code == "OPBD"
    assert releve.solde_ouverture.montant == D("1000.00")
    assert releve.solde_cloture.montant == D("1067.70")
    assert (releve.total_credits, releve.total_debits) == (D("80.00"), D("12.30"))
    assert releve.coherent
    assert releve.resume.nombre_credits == 2 and releve.resume.somme_debits == D("12.30")

    premiere, deuxieme, lot = releve.ecritures
    assert (premiere.position, premiere.sens, premiere.montant) == (1, "credit", D("50.00"))
    assert premiere.statut == "BOOK" and premiere.comptabilisee
    assert premiere.reference_banque == "BQ-1"
    assert premiere.date_comptable == premiere.date_valeur == datetime.date(2025, 6, 16)
    (transaction,) = premiere.transactions
    assert transaction.reference_bout_en_bout == "PEC-ABCD-EF23"
    assert transaction.libelle == "ECROU 123456 MARTIN Luc PEC-ABCD-EF23"
    assert transaction.nom_debiteur == "DUBOIS ANGELA"
    assert transaction.iban_debiteur == "FR7610107001011234567890129"
    assert transaction.montant is None
    assert (deuxieme.sens, deuxieme.montant) == ("debit", D("12.30"))
    assert deuxieme.transactions[0].reference_bout_en_bout == ""  # NOTPROVIDED
    assert lot.reference_ecriture == "LOT-1"
    assert [t.montant for t in lot.transactions] == [D("10.00"), D("20.00")]


def test_solde_debiteur_et_dates_des_soldes():
    contenu = releve_camt053(
        iban=IBAN, ecritures=[credit("25.00")], ouverture="-100.00", periode=False
    )
    (releve,) = lire_camt053(contenu).releves
    assert releve.solde_ouverture.montant == D("-100.00")
    assert releve.solde_cloture.montant == D("-75.00")
    assert releve.date_debut == releve.date_fin == datetime.date(2025, 6, 16)


def test_incoherence_detectee():
    contenu = releve_camt053(iban=IBAN, ecritures=[credit("25.00")], cloture="1030.00")
    (releve,) = lire_camt053(contenu).releves
    assert not releve.coherent
    assert releve.solde_calcule == D("1025.00")


def _retirer(contenu: bytes, nom: str) -> bytes:
    racine = etree.fromstring(contenu)
    for element in racine.iter(f"{{{racine.nsmap[None]}}}{nom}"):
        element.getparent().remove(element)
    return etree.tostring(racine, xml_declaration=True, encoding="UTF-8")


def test_structure_non_conforme_au_schema():
    contenu = _retirer(document(), "BkTxCd")  # mandatory in an entry
    with pytest.raises(CamtInvalide, match=r"conforme au schéma ISO 20022.*BkTxCd"):
        lire_camt053(contenu)


def test_solde_de_cloture_absent():
    racine = etree.fromstring(document())
    ns = racine.nsmap[None]
    for bal in racine.iter(f"{{{ns}}}Bal"):
        if bal.findtext(f"{{{ns}}}Tp/{{{ns}}}CdOrPrtry/{{{ns}}}Cd") == "CLBD":
            bal.getparent().remove(bal)
    with pytest.raises(CamtInvalide, match=r"solde de clôture \(CLBD\) est absent"):
        lire_camt053(etree.tostring(racine))


def test_plus_de_deux_decimales():
    contenu = document().replace(b">50.00<", b">50.001<")
    with pytest.raises(CamtInvalide, match="plus de deux décimales"):
        lire_camt053(contenu)


@pytest.mark.parametrize(
    ("contenu", "message"),
    [
        (b"", "vide"),
        (b"ceci n'est pas du XML", "pas un document XML lisible"),
        (
            b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:'
            b'camt.054.001.02"/>',
            "camt.054.001.02",
        ),
        (b"<Document/>", "aucun"),
        (
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&x;</Document>',
            "DOCTYPE",
        ),
    ],
)
def test_fichiers_refuses(contenu, message):
    with pytest.raises(CamtInvalide, match=message):
        lire_camt053(contenu)
