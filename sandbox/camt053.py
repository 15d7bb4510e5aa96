"""The régie account's end-of-day statement: ISO 20022 camt.053.001.02
(BankToCustomerStatementV02), one credit entry per payment executed to that IBAN that day
and one debit entry per outgoing transfer (pain.001) executed from it that day.

Elements follow the schema's sequences (AccountStatement2, CashAccount20, CashBalance3,
ReportEntry2, EntryTransaction2, TransactionReferences2, TransactionParty2...). The opening
balance is the configured base balance plus every earlier credit, minus every earlier debit,
so consecutive days chain (closing of day N = opening of day N+1)."""

import datetime
import hashlib
import secrets
import xml.etree.ElementTree as ET
from decimal import Decimal
from zoneinfo import ZoneInfo

from schwifty import IBAN

from sandbox import banques
from sandbox.moteur import Moteur
from sandbox.remises import Remises

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


def _entrees(moteur: Moteur, remises: Remises, compte: str, debut, fin) -> list[dict]:
    """The day's entries in booking order: credits (payments executed to the account) and
    debits (outgoing transfers executed from it), each with a signed amount."""
    entrees = [
        {"instant": p["execute_le"], "montant": Decimal(p["montant"]), "credit": p}
        for p in moteur.credits(compte, debut.timestamp(), fin.timestamp())
    ] + [
        {"instant": t["traitee_le"], "montant": -Decimal(t["montant"]), "debit": t}
        for t in remises.debits(compte, debut.timestamp(), fin.timestamp())
    ]
    return sorted(entrees, key=lambda e: e["instant"])


def _resume(stmt: ET.Element, entrees: list[dict]) -> None:
    credits = [e["montant"] for e in entrees if e["montant"] > 0]
    debits = [-e["montant"] for e in entrees if e["montant"] < 0]
    net = sum(credits, Decimal("0.00")) - sum(debits, Decimal("0.00"))
    resume = _sous(stmt, "TxsSummry")
    tous = _sous(resume, "TtlNtries")
    _sous(tous, "NbOfNtries", str(len(entrees)))
    _sous(tous, "Sum", _montant(sum(credits, Decimal("0.00")) + sum(debits, Decimal("0.00"))))
    _sous(tous, "TtlNetNtryAmt", _montant(net))
    _sous(tous, "CdtDbtInd", _sens(net))
    if credits:
        bloc = _sous(resume, "TtlCdtNtries")
        _sous(bloc, "NbOfNtries", str(len(credits)))
        _sous(bloc, "Sum", _montant(sum(credits, Decimal("0.00"))))
    if debits:
        bloc = _sous(resume, "TtlDbtNtries")
        _sous(bloc, "NbOfNtries", str(len(debits)))
        _sous(bloc, "Sum", _montant(sum(debits, Decimal("0.00"))))


def _entete_entree(
    stmt: ET.Element, numero: int, jour_compact: str, montant: Decimal, quand, ref_banque: str
) -> ET.Element:
    ntry = _sous(stmt, "Ntry")
    _sous(ntry, "NtryRef", f"{jour_compact}{numero:06d}")
    _sous(ntry, "Amt", _montant(montant), Ccy=DEVISE)
    _sous(ntry, "CdtDbtInd", _sens(montant))
    _sous(ntry, "Sts", "BOOK")
    _chemin(ntry, "BookgDt/Dt", quand.date().isoformat())
    _chemin(ntry, "ValDt/Dt", quand.date().isoformat())
    _sous(ntry, "AcctSvcrRef", ref_banque)
    code = _sous(ntry, "BkTxCd")
    domaine = _sous(code, "Domn")
    _sous(domaine, "Cd", "PMNT")
    famille = _sous(domaine, "Fmly")
    # Received credit transfers (RCDT) or issued credit transfers (ICDT), SEPA (ESCT).
    _sous(famille, "Cd", "RCDT" if montant > 0 else "ICDT")
    _sous(famille, "SubFmlyCd", "ESCT")
    return ntry


def _credit(ntry: ET.Element, paiement: dict, compte: str, zone, ref_banque: str) -> None:
    montant = Decimal(paiement["montant"])
    execute = datetime.datetime.fromtimestamp(paiement["execute_le"], zone)
    banque = banques.PAR_CODE.get(paiement["banque"] or "", banques.BANQUE_PAR_DEFAUT)
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


def _debit(ntry: ET.Element, transaction: dict, compte: str, zone, ref_banque: str) -> None:
    montant = Decimal(transaction["montant"])
    execute = datetime.datetime.fromtimestamp(transaction["traitee_le"], zone)
    tx = _sous(_sous(ntry, "NtryDtls"), "TxDtls")
    refs = _sous(tx, "Refs")
    _sous(refs, "MsgId", transaction["remise"])
    _sous(refs, "AcctSvcrRef", ref_banque)
    _sous(refs, "PmtInfId", transaction["lot"])
    _sous(refs, "EndToEndId", transaction["reference_bout_en_bout"])
    details = _sous(tx, "AmtDtls")
    _sous(_sous(details, "TxAmt"), "Amt", _montant(montant), Ccy=DEVISE)
    parties = _sous(tx, "RltdPties")
    _chemin(parties, "Dbtr/Nm", transaction["debiteur_nom"][:140])
    _chemin(parties, "DbtrAcct/Id/IBAN", compte)
    _chemin(parties, "Cdtr/Nm", transaction["beneficiaire_nom"][:140])
    _chemin(parties, "CdtrAcct/Id/IBAN", transaction["beneficiaire_iban"])
    if transaction["libelle"]:
        _chemin(tx, "RmtInf/Ustrd", transaction["libelle"])
    _chemin(tx, "RltdDts/AccptncDtTm", execute.replace(microsecond=0).isoformat())


def releve(
    moteur: Moteur,
    remises: Remises,
    iban: IBAN,
    jour: datetime.date,
    fuseau: str,
    solde_base: Decimal,
) -> bytes:
    zone = ZoneInfo(fuseau)
    debut = datetime.datetime.combine(jour, datetime.time.min, tzinfo=zone)
    fin = datetime.datetime.combine(jour + datetime.timedelta(days=1), datetime.time.min, zone)
    maintenant = datetime.datetime.now(zone).replace(microsecond=0)
    compte = iban.compact
    entrees = _entrees(moteur, remises, compte, debut, fin)
    ouverture = (
        solde_base
        + moteur.total_avant(compte, debut.timestamp())
        - remises.total_debite_avant(compte, debut.timestamp())
    )
    cloture = ouverture + sum((e["montant"] for e in entrees), Decimal("0.00"))
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
    _resume(stmt, entrees)

    for numero, entree in enumerate(entrees, start=1):
        quand = datetime.datetime.fromtimestamp(entree["instant"], zone)
        if "credit" in entree:
            ref_banque = _reference("SBX", entree["credit"]["id"])
            ntry = _entete_entree(stmt, numero, jour_compact, entree["montant"], quand, ref_banque)
            _credit(ntry, entree["credit"], compte, zone, ref_banque)
        else:
            transaction = entree["debit"]
            ref_banque = _reference("SBD", f"{transaction['remise']}:{transaction['rang']}")
            ntry = _entete_entree(stmt, numero, jour_compact, entree["montant"], quand, ref_banque)
            _debit(ntry, transaction, compte, zone, ref_banque)

    ET.indent(document)
    return ET.tostring(document, encoding="UTF-8", xml_declaration=True)
