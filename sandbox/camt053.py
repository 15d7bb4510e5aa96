"""The régie account's end-of-day statement: ISO 20022 camt.053.001.02
(BankToCustomerStatementV02), one credit entry per payment executed to that IBAN that day.

Elements follow the schema's sequences (AccountStatement2, CashAccount20, CashBalance3,
ReportEntry2, EntryTransaction2, TransactionReferences2, TransactionParty2...). The opening
balance is the configured base balance plus every earlier credit, so consecutive days chain
(closing of day N = opening of day N+1)."""

import datetime
import hashlib
import secrets
import xml.etree.ElementTree as ET
from decimal import Decimal
from zoneinfo import ZoneInfo

from schwifty import IBAN

from sandbox import banques
from sandbox.moteur import Moteur

NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"
DEVISE = "EUR"
EPOQUE = datetime.date(2000, 1, 1)


def _sous(parent: ET.Element, balise: str, texte: str | None = None, **attributs) -> ET.Element:
    element = ET.SubElement(parent, balise, attributs)
    if texte is not None:
        element.text = texte
    return element


def _chemin(parent: ET.Element, chemin: str, texte: str) -> ET.Element:
    """Create the nested elements `A/B/C` and set the last one's text."""
    element = parent
    for balise in chemin.split("/"):
        element = _sous(element, balise)
    element.text = texte
    return element


def _montant(valeur: Decimal) -> str:
    return f"{abs(valeur):.2f}"


def _sens(valeur: Decimal) -> str:
    return "DBIT" if valeur < 0 else "CRDT"


def _solde(stmt: ET.Element, code: str, valeur: Decimal, jour: datetime.date) -> None:
    bal = _sous(stmt, "Bal")
    _chemin(bal, "Tp/CdOrPrtry/Cd", code)
    _sous(bal, "Amt", _montant(valeur), Ccy=DEVISE)
    _sous(bal, "CdtDbtInd", _sens(valeur))
    _chemin(bal, "Dt/Dt", jour.isoformat())


def _reference(prefixe: str, paiement_id: str) -> str:
    """A stable bank reference for a payment (the same entry in every copy of a statement)."""
    return f"{prefixe}{hashlib.sha256(paiement_id.encode()).hexdigest()[:16].upper()}"


def releve(
    moteur: Moteur, iban: IBAN, jour: datetime.date, fuseau: str, solde_base: Decimal
) -> bytes:
    zone = ZoneInfo(fuseau)
    debut = datetime.datetime.combine(jour, datetime.time.min, tzinfo=zone)
    fin = datetime.datetime.combine(jour + datetime.timedelta(days=1), datetime.time.min, zone)
    maintenant = datetime.datetime.now(zone).replace(microsecond=0)
    compte = iban.compact
    credits = moteur.credits(compte, debut.timestamp(), fin.timestamp())
    ouverture = solde_base + moteur.total_avant(compte, debut.timestamp())
    total = sum((Decimal(p["montant"]) for p in credits), Decimal("0.00"))
    cloture = ouverture + total
    jour_compact = jour.strftime("%Y%m%d")

    document = ET.Element("Document", xmlns=NS)
    racine = _sous(document, "BkToCstmrStmt")
    entete = _sous(racine, "GrpHdr")
    _sous(entete, "MsgId", f"SBX{jour_compact}{secrets.token_hex(8).upper()}")
    _sous(entete, "CreDtTm", maintenant.isoformat())
    pagination = _sous(entete, "MsgPgntn")
    _sous(pagination, "PgNb", "1")
    _sous(pagination, "LastPgInd", "true")

    stmt = _sous(racine, "Stmt")
    _sous(stmt, "Id", f"SBX-{compte[-11:]}-{jour_compact}")
    _sous(stmt, "ElctrncSeqNb", str((jour - EPOQUE).days + 1))
    _sous(stmt, "CreDtTm", maintenant.isoformat())
    periode = _sous(stmt, "FrToDt")
    _sous(periode, "FrDtTm", debut.isoformat())
    _sous(periode, "ToDtTm", (fin - datetime.timedelta(seconds=1)).isoformat())
    acct = _sous(stmt, "Acct")
    _chemin(acct, "Id/IBAN", compte)
    _sous(acct, "Ccy", DEVISE)
    titulaire = moteur.titulaire(compte)
    if titulaire:
        _chemin(acct, "Ownr/Nm", titulaire[:140])
    bic_regie = iban.bic
    if bic_regie is not None:
        _chemin(acct, "Svcr/FinInstnId/BIC", str(bic_regie))
    _solde(stmt, "OPBD", ouverture, jour)
    _solde(stmt, "CLBD", cloture, jour)

    resume = _sous(stmt, "TxsSummry")
    tous = _sous(resume, "TtlNtries")
    _sous(tous, "NbOfNtries", str(len(credits)))
    _sous(tous, "Sum", _montant(total))
    _sous(tous, "TtlNetNtryAmt", _montant(total))
    _sous(tous, "CdtDbtInd", "CRDT")
    credits_resume = _sous(resume, "TtlCdtNtries")
    _sous(credits_resume, "NbOfNtries", str(len(credits)))
    _sous(credits_resume, "Sum", _montant(total))

    for numero, paiement in enumerate(credits, start=1):
        montant = Decimal(paiement["montant"])
        execute = datetime.datetime.fromtimestamp(paiement["execute_le"], zone)
        ref_banque = _reference("SBX", paiement["id"])
        banque = banques.PAR_CODE.get(paiement["banque"] or "", banques.BANQUE_PAR_DEFAUT)

        ntry = _sous(stmt, "Ntry")
        _sous(ntry, "NtryRef", f"{jour_compact}{numero:06d}")
        _sous(ntry, "Amt", _montant(montant), Ccy=DEVISE)
        _sous(ntry, "CdtDbtInd", "CRDT")
        _sous(ntry, "Sts", "BOOK")
        _chemin(ntry, "BookgDt/Dt", execute.date().isoformat())
        _chemin(ntry, "ValDt/Dt", execute.date().isoformat())
        _sous(ntry, "AcctSvcrRef", ref_banque)
        code = _sous(ntry, "BkTxCd")
        domaine = _sous(code, "Domn")
        _sous(domaine, "Cd", "PMNT")
        famille = _sous(domaine, "Fmly")
        _sous(famille, "Cd", "RCDT")
        _sous(famille, "SubFmlyCd", "ESCT")

        tx = _sous(_sous(ntry, "NtryDtls"), "TxDtls")
        refs = _sous(tx, "Refs")
        _sous(refs, "AcctSvcrRef", ref_banque)
        _sous(refs, "EndToEndId", paiement["reference_bout_en_bout"])
        _sous(refs, "TxId", _reference("TX", paiement["id"]))
        details = _sous(tx, "AmtDtls")
        _sous(_sous(details, "TxAmt"), "Amt", _montant(montant), Ccy=DEVISE)
        parties = _sous(tx, "RltdPties")
        _chemin(parties, "Dbtr/Nm", paiement["payeur_nom"][:140])
        debiteur = paiement["debiteur_iban"] or banques.iban_payeur(banque, paiement["payeur_nom"])
        _chemin(parties, "DbtrAcct/Id/IBAN", debiteur)
        _chemin(parties, "Cdtr/Nm", paiement["creancier_nom"][:140])
        _chemin(parties, "CdtrAcct/Id/IBAN", compte)
        _chemin(tx, "RltdAgts/DbtrAgt/FinInstnId/BIC", banque.bic)
        _chemin(tx, "RmtInf/Ustrd", paiement["libelle"])
        _chemin(tx, "RltdDts/AccptncDtTm", execute.replace(microsecond=0).isoformat())

    ET.indent(document)
    return ET.tostring(document, encoding="UTF-8", xml_declaration=True)
