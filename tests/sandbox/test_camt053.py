"""The régie account's camt.053.001.02 statement: one credit entry per payment executed to
that IBAN that day, balances that add up, and the element order of the ISO 20022 schema.

lxml is not among the project's dependencies: the statement is parsed with the standard
library's ElementTree (it is our own output, not untrusted input)."""

import datetime
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import requests
from schwifty import IBAN

from pecule.fournisseurs.base import ErreurFournisseur, Payeur

from .aides import IBAN_REGIE, creer

NS = {"c": "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"}
PARIS = ZoneInfo("Europe/Paris")
AUTRE_IBAN = "FR1420041010050500013M02606"

# The sequences of camt.053.001.02 for the elements the sandbox writes:
# (child, minimum, maximum or None for unbounded), in schema order.
SEQUENCES = {
    "Document": [("BkToCstmrStmt", 1, 1)],
    "BkToCstmrStmt": [("GrpHdr", 1, 1), ("Stmt", 1, None)],
    "GrpHdr": [("MsgId", 1, 1), ("CreDtTm", 1, 1), ("MsgRcpt", 0, 1), ("MsgPgntn", 0, 1)],
    "MsgPgntn": [("PgNb", 1, 1), ("LastPgInd", 1, 1)],
    "Stmt": [
        ("Id", 1, 1),
        ("ElctrncSeqNb", 0, 1),
        ("LglSeqNb", 0, 1),
        ("CreDtTm", 1, 1),
        ("FrToDt", 0, 1),
        ("CpyDplctInd", 0, 1),
        ("RptgSrc", 0, 1),
        ("Acct", 1, 1),
        ("RltdAcct", 0, 1),
        ("Intrst", 0, None),
        ("Bal", 1, None),
        ("TxsSummry", 0, 1),
        ("Ntry", 0, None),
        ("AddtlStmtInf", 0, 1),
    ],
    "FrToDt": [("FrDtTm", 1, 1), ("ToDtTm", 1, 1)],
    "Acct": [
        ("Id", 1, 1),
        ("Tp", 0, 1),
        ("Ccy", 0, 1),
        ("Nm", 0, 1),
        ("Ownr", 0, 1),
        ("Svcr", 0, 1),
    ],
    "Ownr": [("Nm", 0, 1), ("PstlAdr", 0, 1), ("Id", 0, 1)],
    "Svcr": [("FinInstnId", 1, 1), ("BrnchId", 0, 1)],
    "FinInstnId": [("BIC", 0, 1), ("ClrSysMmbId", 0, 1), ("Nm", 0, 1)],
    "Bal": [("Tp", 1, 1), ("CdtLine", 0, 1), ("Amt", 1, 1), ("CdtDbtInd", 1, 1), ("Dt", 1, 1)],
    "Tp": [("CdOrPrtry", 1, 1), ("SubTp", 0, 1)],
    "CdOrPrtry": [("Cd", 0, 1), ("Prtry", 0, 1)],
    "TxsSummry": [("TtlNtries", 0, 1), ("TtlCdtNtries", 0, 1), ("TtlDbtNtries", 0, 1)],
    "TtlNtries": [
        ("NbOfNtries", 0, 1),
        ("Sum", 0, 1),
        ("TtlNetNtryAmt", 0, 1),
        ("CdtDbtInd", 0, 1),
    ],
    "TtlCdtNtries": [("NbOfNtries", 0, 1), ("Sum", 0, 1)],
    "Ntry": [
        ("NtryRef", 0, 1),
        ("Amt", 1, 1),
        ("CdtDbtInd", 1, 1),
        ("RvslInd", 0, 1),
        ("Sts", 1, 1),
        ("BookgDt", 0, 1),
        ("ValDt", 0, 1),
        ("AcctSvcrRef", 0, 1),
        ("Avlbty", 0, None),
        ("BkTxCd", 1, 1),
        ("ComssnWvrInd", 0, 1),
        ("AddtlInfInd", 0, 1),
        ("AmtDtls", 0, 1),
        ("Chrgs", 0, None),
        ("TechInptChanl", 0, 1),
        ("Intrst", 0, None),
        ("NtryDtls", 0, None),
        ("AddtlNtryInf", 0, 1),
    ],
    "Dt": [("Dt", 0, 1), ("DtTm", 0, 1)],  # DateAndDateTimeChoice of a balance
    "BookgDt": [("Dt", 0, 1), ("DtTm", 0, 1)],
    "ValDt": [("Dt", 0, 1), ("DtTm", 0, 1)],
    "BkTxCd": [("Domn", 0, 1), ("Prtry", 0, 1)],
    "Domn": [("Cd", 1, 1), ("Fmly", 1, 1)],
    "Fmly": [("Cd", 1, 1), ("SubFmlyCd", 1, 1)],
    "NtryDtls": [("Btch", 0, 1), ("TxDtls", 0, None)],
    "TxDtls": [
        ("Refs", 0, 1),
        ("AmtDtls", 0, 1),
        ("Avlbty", 0, None),
        ("BkTxCd", 0, 1),
        ("Chrgs", 0, None),
        ("Intrst", 0, None),
        ("RltdPties", 0, 1),
        ("RltdAgts", 0, 1),
        ("Purp", 0, 1),
        ("RltdRmtInf", 0, 10),
        ("RmtInf", 0, 1),
        ("RltdDts", 0, 1),
    ],
    "Refs": [
        ("MsgId", 0, 1),
        ("AcctSvcrRef", 0, 1),
        ("PmtInfId", 0, 1),
        ("InstrId", 0, 1),
        ("EndToEndId", 0, 1),
        ("TxId", 0, 1),
    ],
    "AmtDtls": [("InstdAmt", 0, 1), ("TxAmt", 0, 1)],
    "TxAmt": [("Amt", 1, 1), ("CcyXchg", 0, 1)],
    "RltdPties": [
        ("InitgPty", 0, 1),
        ("Dbtr", 0, 1),
        ("DbtrAcct", 0, 1),
        ("UltmtDbtr", 0, 1),
        ("Cdtr", 0, 1),
        ("CdtrAcct", 0, 1),
    ],
    "Dbtr": [("Nm", 0, 1), ("PstlAdr", 0, 1), ("Id", 0, 1)],
    "Cdtr": [("Nm", 0, 1), ("PstlAdr", 0, 1), ("Id", 0, 1)],
    "DbtrAcct": [("Id", 1, 1), ("Tp", 0, 1), ("Ccy", 0, 1), ("Nm", 0, 1)],
    "CdtrAcct": [("Id", 1, 1), ("Tp", 0, 1), ("Ccy", 0, 1), ("Nm", 0, 1)],
    "Id": [("IBAN", 0, 1), ("Othr", 0, 1)],  # AccountIdentification4Choice (when not a leaf)
    "RltdAgts": [("DbtrAgt", 0, 1), ("CdtrAgt", 0, 1)],
    "DbtrAgt": [("FinInstnId", 1, 1), ("BrnchId", 0, 1)],
    "RmtInf": [("Ustrd", 0, None), ("Strd", 0, None)],
    "RltdDts": [("AccptncDtTm", 0, 1), ("TradDt", 0, 1), ("IntrBkSttlmDt", 0, 1)],
}
MAX35 = {"MsgId", "NtryRef", "AcctSvcrRef", "EndToEndId", "TxId", "PgNb"}
MONTANT = re.compile(r"^\d+\.\d{2}$")


def local(element) -> str:
    return element.tag.split("}", 1)[1]


def verifier_structure(element, chemin=""):
    """The children of each known element follow its schema sequence; leaves are well-typed."""
    nom = local(element)
    chemin = f"{chemin}/{nom}"
    enfants = list(element)
    if not enfants:
        texte = (element.text or "").strip()
        assert texte, f"{chemin}: empty leaf"
        if nom in MAX35:
            assert len(texte) <= 35, chemin
        if nom in ("Amt", "InstdAmt") or (nom == "Sum" and "TtlNtries" not in chemin):
            assert MONTANT.match(texte), f"{chemin}: {texte}"
        if nom == "Amt":
            assert element.get("Ccy") == "EUR", chemin
        if nom == "CdtDbtInd":
            assert texte in ("CRDT", "DBIT"), chemin
        if nom == "IBAN":
            IBAN(texte, validate_bban=True)
        if nom == "Dt":
            datetime.date.fromisoformat(texte)
        if nom in ("CreDtTm", "FrDtTm", "ToDtTm", "AccptncDtTm"):
            assert datetime.datetime.fromisoformat(texte).tzinfo is not None, chemin
        return
    sequence = SEQUENCES.get(nom)
    assert sequence is not None, f"{chemin}: unexpected complex element"
    position, comptes = 0, {}
    for enfant in enfants:
        nom_enfant = local(enfant)
        while position < len(sequence) and sequence[position][0] != nom_enfant:
            position += 1
        assert position < len(sequence), f"{chemin}: {nom_enfant} unknown or out of order"
        comptes[nom_enfant] = comptes.get(nom_enfant, 0) + 1
        maximum = sequence[position][2]
        assert maximum is None or comptes[nom_enfant] <= maximum, f"{chemin}: too many {nom_enfant}"
        verifier_structure(enfant, chemin)
    for nom_enfant, minimum, _ in sequence:
        assert comptes.get(nom_enfant, 0) >= minimum, f"{chemin}: {nom_enfant} missing"


def texte(element, chemin: str) -> str:
    trouve = element.find(chemin, NS)
    assert trouve is not None, chemin
    return trouve.text


def payer(
    banque, fournisseur, montant, reference, payeur, iban=IBAN_REGIE, banque_code="banque-exemple"
):
    paiement = creer(
        fournisseur,
        montant=Decimal(montant),
        creancier_iban=iban,
        reference_bout_en_bout=reference,
        libelle=f"ECROU 4242 MARTIN Paul {reference}",
        payeur=Payeur(nom=payeur, email=""),
    )
    banque.payer(paiement.url_redirection, banque=banque_code, issue="succes")
    return paiement


@pytest.fixture
def aujourd_hui():
    return datetime.datetime.now(PARIS).date()


def test_releve_d_une_journee_avec_deux_paiements(banque, fournisseur, aujourd_hui):
    banque.configurer(opening_balance="100.00")
    payer(banque, fournisseur, "12.50", "PEC-AAAA-1111", "Angela DUBOIS")
    payer(
        banque,
        fournisseur,
        "40.00",
        "PEC-BBBB-2222",
        "Jean-Pierre MARTIN",
        banque_code="neobanque-test",
    )
    # Not in the statement: another account, a refused payment, a pending one.
    payer(banque, fournisseur, "99.00", "PEC-CCCC-3333", "Autre", iban=AUTRE_IBAN)
    refuse = creer(fournisseur, montant=Decimal("7.00"), reference_bout_en_bout="PEC-DDDD-4444")
    banque.payer(refuse.url_redirection, issue="refus")
    creer(fournisseur, montant=Decimal("8.00"), reference_bout_en_bout="PEC-EEEE-5555")

    xml = fournisseur.releve_camt053(IBAN_REGIE, aujourd_hui)
    assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    document = ET.fromstring(xml)  # noqa: S314 (our own output)
    assert document.tag == "{urn:iso:std:iso:20022:tech:xsd:camt.053.001.02}Document"
    verifier_structure(document)

    stmt = document.find("c:BkToCstmrStmt/c:Stmt", NS)
    assert texte(stmt, "c:Acct/c:Id/c:IBAN") == IBAN_REGIE
    assert texte(stmt, "c:Acct/c:Ccy") == "EUR"
    assert texte(stmt, "c:Acct/c:Ownr/c:Nm") == "Régie du centre pénitentiaire de Test"
    assert texte(stmt, "c:ElctrncSeqNb").isdigit()
    soldes = {
        texte(bal, "c:Tp/c:CdOrPrtry/c:Cd"): (
            Decimal(texte(bal, "c:Amt")),
            texte(bal, "c:CdtDbtInd"),
            texte(bal, "c:Dt/c:Dt"),
        )
        for bal in stmt.findall("c:Bal", NS)
    }
    assert soldes == {
        "OPBD": (Decimal("100.00"), "CRDT", aujourd_hui.isoformat()),
        "CLBD": (Decimal("152.50"), "CRDT", aujourd_hui.isoformat()),
    }
    assert texte(stmt, "c:TxsSummry/c:TtlNtries/c:NbOfNtries") == "2"
    assert Decimal(texte(stmt, "c:TxsSummry/c:TtlNtries/c:Sum")) == Decimal("52.50")

    entrees = stmt.findall("c:Ntry", NS)
    assert len(entrees) == 2
    lignes = []
    for ntry in entrees:
        assert texte(ntry, "c:CdtDbtInd") == "CRDT"
        assert texte(ntry, "c:Sts") == "BOOK"
        assert texte(ntry, "c:BookgDt/c:Dt") == aujourd_hui.isoformat()
        assert texte(ntry, "c:ValDt/c:Dt") == aujourd_hui.isoformat()
        assert texte(ntry, "c:BkTxCd/c:Domn/c:Fmly/c:Cd") == "RCDT"
        tx = ntry.find("c:NtryDtls/c:TxDtls", NS)
        assert texte(tx, "c:Refs/c:AcctSvcrRef") == texte(ntry, "c:AcctSvcrRef")
        assert texte(tx, "c:RltdPties/c:CdtrAcct/c:Id/c:IBAN") == IBAN_REGIE
        debiteur = texte(tx, "c:RltdPties/c:DbtrAcct/c:Id/c:IBAN")
        assert IBAN(debiteur, validate_bban=True).country_code == "FR"
        lignes.append(
            (
                Decimal(texte(ntry, "c:Amt")),
                texte(tx, "c:Refs/c:EndToEndId"),
                texte(tx, "c:RmtInf/c:Ustrd"),
                texte(tx, "c:RltdPties/c:Dbtr/c:Nm"),
                texte(tx, "c:RltdAgts/c:DbtrAgt/c:FinInstnId/c:BIC"),
                debiteur[4:9],
            )
        )
    assert lignes == [
        (
            Decimal("12.50"),
            "PEC-AAAA-1111",
            "ECROU 4242 MARTIN Paul PEC-AAAA-1111",
            "Angela DUBOIS",
            "BEXPFRPPXXX",
            "99901",
        ),
        (
            Decimal("40.00"),
            "PEC-BBBB-2222",
            "ECROU 4242 MARTIN Paul PEC-BBBB-2222",
            "Jean-Pierre MARTIN",
            "NEOTFRPPXXX",
            "99904",
        ),
    ]
    # The same statement downloaded twice: same entries, same bank references.
    encore = ET.fromstring(fournisseur.releve_camt053(IBAN_REGIE, aujourd_hui))  # noqa: S314
    assert [e.text for e in encore.findall(".//c:AcctSvcrRef", NS)] == [
        e.text for e in document.findall(".//c:AcctSvcrRef", NS)
    ]


def test_les_soldes_s_enchainent_d_un_jour_a_l_autre(banque, fournisseur, aujourd_hui):
    hier = aujourd_hui - datetime.timedelta(days=1)
    ancien = creer(fournisseur, montant=Decimal("30.00"), reference_bout_en_bout="PEC-HIER-0001")
    execute_hier = datetime.datetime.combine(hier, datetime.time(10, 0), PARIS)
    banque.forcer_statut(ancien.id_fournisseur, "EXECUTED", survenu_le=execute_hier.isoformat())
    payer(banque, fournisseur, "5.25", "PEC-AUJD-0002", "Angela DUBOIS")

    def soldes(jour):
        document = ET.fromstring(fournisseur.releve_camt053(IBAN_REGIE, jour))  # noqa: S314
        verifier_structure(document)
        stmt = document.find("c:BkToCstmrStmt/c:Stmt", NS)
        return {
            texte(b, "c:Tp/c:CdOrPrtry/c:Cd"): Decimal(texte(b, "c:Amt"))
            for b in stmt.findall("c:Bal", NS)
        }, [texte(n, "c:NtryDtls/c:TxDtls/c:Refs/c:EndToEndId") for n in stmt.findall("c:Ntry", NS)]

    assert soldes(hier) == ({"OPBD": Decimal("0.00"), "CLBD": Decimal("30.00")}, ["PEC-HIER-0001"])
    assert soldes(aujourd_hui) == (
        {"OPBD": Decimal("30.00"), "CLBD": Decimal("35.25")},
        ["PEC-AUJD-0002"],
    )
    demain = aujourd_hui + datetime.timedelta(days=1)
    assert soldes(demain) == ({"OPBD": Decimal("35.25"), "CLBD": Decimal("35.25")}, [])


def test_releve_vide_et_iban_avec_espaces(banque, fournisseur, aujourd_hui):
    xml = fournisseur.releve_camt053("FR76 3000 6000 0112 3456 7890 189", aujourd_hui)
    document = ET.fromstring(xml)  # noqa: S314
    verifier_structure(document)
    assert document.findall(".//c:Ntry", NS) == []


def test_releve_erreurs(banque, fournisseur, aujourd_hui):
    with pytest.raises(ErreurFournisseur) as erreur:
        fournisseur.releve_camt053("FR7630006000011234567890180", aujourd_hui)
    assert erreur.value.transitoire is False
    reponse = banque.api("GET", f"/api/releves/{IBAN_REGIE}", params={"date": "31/12/2025"})
    assert reponse.status_code == 400
    sans_jeton = requests.get(f"{banque.url}/api/releves/{IBAN_REGIE}", timeout=5)
    assert sans_jeton.status_code == 401
