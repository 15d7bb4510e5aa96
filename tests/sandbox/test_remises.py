"""The régie's outgoing transfers at the sandbox bank: a pain.001 file is validated,
each transaction executed or rejected by the tester's rule, the bank answers a pain.002
status report, and the executed transfers are debits of the régie's camt.053.

The pain.001 files are written here with sepaxml (the maintained library the portal also
uses), never by the code under test; the answers are checked against the official XSDs
shipped in `schemas/iso20022/`."""

import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from django.conf import settings
from lxml import etree
from sepaxml import SepaTransfer

from .aides import IBAN_REGIE

SCHEMAS = Path(settings.BASE_DIR) / "schemas" / "iso20022"
XSD_CAMT = SCHEMAS
NS_002 = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"}
NS_CAMT = {"c": "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"}
# A valid IBAN ending in 0000: the sandbox's default rule rejects it (a French IBAN ends
# with its two-digit RIB key, which is never 00).
IBAN_CLOS = "DE94370400440532010000"
IBAN_PROCHE = "FR7630006000011234567890286"
IBAN_FOURNISSEUR = "FR1420041010050500013M02606"


def pain001(transactions, *, version="pain.001.001.03", debiteur=IBAN_REGIE) -> bytes:
    """A credit-transfer file from the régie: transactions are (name, IBAN, cents, e2e)."""
    fichier = SepaTransfer(
        {
            "name": "Regie du centre penitentiaire de Test",
            "IBAN": debiteur,
            "BIC": "AGRIFRPPXXX",
            "batch": True,
            "currency": "EUR",
        },
        schema=version,
    )
    for nom, iban, centimes, reference in transactions:
        fichier.add_payment(
            {
                "name": nom,
                "IBAN": iban,
                "amount": centimes,
                "execution_date": datetime.date(2026, 7, 1),
                "description": f"Retour du virement {reference}",
                "endtoend_id": reference,
            }
        )
    return fichier.export(validate=True)


def deposer(banque, contenu: bytes) -> requests.Response:
    return banque.api(
        "POST", "/api/remises", data=contenu, headers={"Content-Type": "application/xml"}
    )


def valider(xml: bytes, xsd: Path) -> etree._Element:
    document = etree.fromstring(xml)
    schema = etree.XMLSchema(etree.parse(str(xsd)))
    assert schema.validate(document), schema.error_log
    return document


TROIS = [
    ("Angela DUBOIS", IBAN_PROCHE, 4550, "PEO-AAAA-0001"),
    ("Fermeture SARL", IBAN_CLOS, 1000, "PEO-AAAA-0002"),
    ("Orthopedie du Centre", IBAN_FOURNISSEUR, 32000, "PEO-AAAA-0003"),
]


def test_remise_executee_sauf_l_iban_qui_finit_par_0000(banque):
    reponse = deposer(banque, pain001(TROIS))
    assert reponse.status_code == 201, reponse.text
    remise = reponse.json()
    assert remise["statut"] == "PART"
    assert remise["nombre"] == 3 and remise["total"] == "375.50"
    assert remise["debiteur_iban"] == IBAN_REGIE
    par_reference = {t["reference_bout_en_bout"]: t for t in remise["transactions"]}
    assert par_reference["PEO-AAAA-0001"]["statut"] == "ACSC"
    assert par_reference["PEO-AAAA-0002"]["statut"] == "RJCT"
    assert par_reference["PEO-AAAA-0002"]["motif_code"] == "AC04"
    assert par_reference["PEO-AAAA-0003"]["statut"] == "ACSC"


def test_le_meme_fichier_deux_fois_est_accuse_une_fois(banque):
    contenu = pain001(TROIS[:1])
    premiere = deposer(banque, contenu)
    seconde = deposer(banque, contenu)
    assert (premiere.status_code, seconde.status_code) == (201, 200)
    assert seconde.json() == premiere.json()
    # Another file that reuses the message id is refused: the bank never pays it twice.
    autre = contenu.replace(b"4550", b"4560").replace(b"45.50", b"45.60")
    conflit = deposer(banque, autre)
    assert conflit.status_code == 409 and conflit.json()["erreur"] == "remise_deja_recue"


@pytest.mark.parametrize(
    ("alteration", "attendu"),
    [
        (lambda xml: b"pas du XML", "XML illisible"),
        (lambda xml: b"", "fichier vide"),
        (
            lambda xml: xml.replace(b"pain.001.001.03", b"pain.001.001.02"),
            "pain.001.001.03 ou .09 attendu",
        ),
        (
            lambda xml: xml.replace(b"<CtrlSum>45.50</CtrlSum>", b"<CtrlSum>45.5X</CtrlSum>", 1),
            "ligne",
        ),
        (
            lambda xml: xml.replace(b"<CtrlSum>45.50</CtrlSum>", b"<CtrlSum>46.50</CtrlSum>", 1),
            "CtrlSum",
        ),
        (
            lambda xml: b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>' + xml[38:],
            "DOCTYPE",
        ),
    ],
    ids=["pas-xml", "vide", "autre-version", "hors-schema", "somme-de-controle", "doctype"],
)
def test_fichier_refuse_en_entier(banque, alteration, attendu):
    reponse = deposer(banque, alteration(pain001(TROIS[:1])))
    assert reponse.status_code == 400
    corps = reponse.json()
    assert corps["erreur"] == "fichier_invalide"
    assert any(attendu in erreur for erreur in corps["erreurs"]), corps
    assert banque.api("GET", "/__admin__/config").status_code == 200  # still serving


def test_rapport_pain002_conforme_au_schema(banque):
    remise = deposer(banque, pain001(TROIS)).json()
    reponse = banque.api("GET", f"/api/remises/{remise['identifiant']}/pain002")
    assert reponse.status_code == 200
    document = valider(reponse.content, SCHEMAS / "pain.002.001.03.xsd")
    groupe = document.find("p:CstmrPmtStsRpt/p:OrgnlGrpInfAndSts", NS_002)
    assert groupe.findtext("p:OrgnlMsgId", namespaces=NS_002) == remise["identifiant"]
    assert groupe.findtext("p:GrpSts", namespaces=NS_002) == "PART"
    statuts = {
        tx.findtext("p:OrgnlEndToEndId", namespaces=NS_002): (
            tx.findtext("p:TxSts", namespaces=NS_002),
            tx.findtext("p:StsRsnInf/p:Rsn/p:Cd", namespaces=NS_002),
        )
        for tx in document.iterfind(".//p:TxInfAndSts", NS_002)
    }
    assert statuts == {
        "PEO-AAAA-0001": ("ACSC", None),
        "PEO-AAAA-0002": ("RJCT", "AC04"),
        "PEO-AAAA-0003": ("ACSC", None),
    }
    assert banque.api("GET", "/api/remises/INCONNUE/pain002").status_code == 404


def test_debits_executes_au_releve_camt053(banque, fournisseur):
    remise = deposer(banque, pain001(TROIS)).json()
    # The statement's day is the booking day in Paris of the sandbox's own clock.
    jour = datetime.datetime.fromtimestamp(
        remise["transactions"][0]["traitee_le"], ZoneInfo("Europe/Paris")
    ).date()
    xml = fournisseur.releve_camt053(IBAN_REGIE, jour)
    document = valider(xml, XSD_CAMT / "camt.053.001.02.xsd")
    entrees = document.findall(".//c:Ntry", NS_CAMT)
    debits = [e for e in entrees if e.findtext("c:CdtDbtInd", namespaces=NS_CAMT) == "DBIT"]
    assert sorted(
        (
            e.findtext("c:NtryDtls/c:TxDtls/c:Refs/c:EndToEndId", namespaces=NS_CAMT),
            e.findtext("c:Amt", namespaces=NS_CAMT),
            e.findtext(
                "c:NtryDtls/c:TxDtls/c:RltdPties/c:CdtrAcct/c:Id/c:IBAN", namespaces=NS_CAMT
            ),
            e.findtext("c:BkTxCd/c:Domn/c:Fmly/c:Cd", namespaces=NS_CAMT),
        )
        for e in debits
    ) == [
        ("PEO-AAAA-0001", "45.50", IBAN_PROCHE, "ICDT"),
        ("PEO-AAAA-0003", "320.00", IBAN_FOURNISSEUR, "ICDT"),
    ]
    soldes = {
        b.findtext("c:Tp/c:CdOrPrtry/c:Cd", namespaces=NS_CAMT): Decimal(
            b.findtext("c:Amt", namespaces=NS_CAMT)
        )
        * (-1 if b.findtext("c:CdtDbtInd", namespaces=NS_CAMT) == "DBIT" else 1)
        for b in document.iterfind(".//c:Bal", NS_CAMT)
    }
    assert soldes["CLBD"] == soldes["OPBD"] - Decimal("365.50")
    # The next day opens where this one closed.
    lendemain = valider(
        fournisseur.releve_camt053(IBAN_REGIE, jour + datetime.timedelta(days=1)),
        XSD_CAMT / "camt.053.001.02.xsd",
    )
    ouverture = lendemain.find(".//c:Bal", NS_CAMT)
    assert ouverture.findtext("c:CdtDbtInd", namespaces=NS_CAMT) == "DBIT"
    assert Decimal(ouverture.findtext("c:Amt", namespaces=NS_CAMT)) == Decimal("365.50")


def test_la_regle_de_rejet_se_regle(banque):
    banque.configurer(rejet_iban_suffixe="", rejet_motif="AC01")
    remise = deposer(banque, pain001(TROIS)).json()
    assert remise["statut"] == "ACSC"
    banque.configurer(rejet_iban_suffixe="0286", rejet_motif="AC01")
    remise = deposer(banque, pain001([("X", IBAN_PROCHE, 100, "PEO-BBBB-0001")])).json()
    assert remise["statut"] == "RJCT"
    assert remise["transactions"][0]["motif_code"] == "AC01"
    refus = banque.api("POST", "/__admin__/config", json={"rejet_motif": "ZZ99"})
    assert refus.status_code == 400 and "rejet_motif" in refus.json()["champs"]


def test_version_09_acceptee(banque):
    reponse = deposer(banque, pain001(TROIS[:1], version="pain.001.001.09"))
    assert reponse.status_code == 201, reponse.text
    assert reponse.json()["version"] == "pain.001.001.09"


def test_page_de_depot(banque):
    page = requests.get(f"{banque.url}/remises", timeout=5)
    assert page.status_code == 200 and 'id="formulaire-remise"' in page.text
    envoi = requests.post(
        f"{banque.url}/remises",
        files={"fichier": ("remise.xml", pain001(TROIS), "application/xml")},
        timeout=5,
    )
    assert envoi.status_code == 200
    assert "reçue et traitée" in envoi.text and "rejeté (AC04" in envoi.text
    vide = requests.post(f"{banque.url}/remises", files={}, timeout=5)
    assert vide.status_code == 400 and "Choisissez le fichier" in vide.text
    mauvais = requests.post(
        f"{banque.url}/remises",
        files={"fichier": ("remise.xml", b"<x/>", "application/xml")},
        timeout=5,
    )
    assert mauvais.status_code == 400 and "Le fichier est refusé" in mauvais.text
