"""Builds camt.053 statements (001.02 by default, 001.08 on request) with lxml, valid
against the official XSD, for the reconciliation tests.

    releve_camt053(iban=..., ecritures=[credit("50.00", e2e=v.reference), debit("12.00")])
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from lxml import etree

JOUR = datetime.date(2025, 6, 16)  # a Monday
IBAN_PROCHE = "FR7610107001011234567890129"


@dataclass
class Transaction:
    e2e: str = "NOTPROVIDED"
    libelle: str | None = None
    nom_debiteur: str | None = "DUBOIS ANGELA"
    iban_debiteur: str | None = IBAN_PROCHE
    montant: Decimal | str | None = None  # only for batch entries
    nom_crediteur: str | None = None  # a debit's beneficiary
    iban_crediteur: str | None = None


@dataclass
class Ecriture:
    montant: Decimal | str
    sens: str = "CRDT"
    reference: str | None = None  # AcctSvcrRef
    ntry_ref: str | None = None
    date: datetime.date = JOUR
    statut: str = "BOOK"
    contrepassation: bool = False
    transactions: list[Transaction] = field(default_factory=list)


def credit(
    montant,
    *,
    e2e: str = "NOTPROVIDED",
    libelle: str | None = None,
    reference: str | None = None,
    nom: str | None = "DUBOIS ANGELA",
    iban: str | None = IBAN_PROCHE,
    date: datetime.date = JOUR,
) -> Ecriture:
    return Ecriture(
        montant=montant,
        reference=reference,
        date=date,
        transactions=[Transaction(e2e=e2e, libelle=libelle, nom_debiteur=nom, iban_debiteur=iban)],
    )


def debit(montant, *, libelle: str = "FRAIS DE TENUE DE COMPTE", reference: str | None = None):
    return Ecriture(
        montant=montant,
        sens="DBIT",
        reference=reference,
        transactions=[Transaction(libelle=libelle, nom_debiteur=None, iban_debiteur=None)],
    )


def debit_ordre(
    montant,
    *,
    e2e: str = "NOTPROVIDED",
    libelle: str | None = None,
    beneficiaire: str = "MME JEANNE MARTIN",
    iban: str = IBAN_PROCHE,
    reference: str | None = None,
    date: datetime.date = JOUR,
) -> Ecriture:
    """A debit of the régie's account paying one of its transfers (an outgoing order)."""
    return Ecriture(
        montant=montant,
        sens="DBIT",
        reference=reference,
        date=date,
        transactions=[
            Transaction(
                e2e=e2e,
                libelle=libelle,
                nom_debiteur=None,
                iban_debiteur=None,
                nom_crediteur=beneficiaire,
                iban_crediteur=iban,
            )
        ],
    )


def _montant(valeur) -> Decimal:
    return Decimal(str(valeur)).quantize(Decimal("0.01"))


def releve_camt053(
    *,
    iban: str,
    ecritures: list[Ecriture],
    identifiant: str = "STMT-2025-06-16",
    ouverture: Decimal | str = "1000.00",
    cloture: Decimal | str | None = None,
    date: datetime.date = JOUR,
    msg_id: str | None = None,
    version: str = "02",
    resume: bool = False,
    periode: bool = True,
) -> bytes:
    """A complete statement document. `cloture` defaults to the consistent balance."""
    ns = f"urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}"
    v08 = version == "08"

    def el(parent, nom, texte=None, **attributs):
        element = etree.SubElement(parent, f"{{{ns}}}{nom}", **attributs)
        if texte is not None:
            element.text = str(texte)
        return element

    def montant(parent, nom, valeur):
        return el(parent, nom, f"{_montant(valeur):.2f}", Ccy="EUR")

    def solde(stmt, code, valeur):
        valeur = _montant(valeur)
        bal = el(stmt, "Bal")
        el(el(el(bal, "Tp"), "CdOrPrtry"), "Cd", code)
        montant(bal, "Amt", abs(valeur))
        el(bal, "CdtDbtInd", "DBIT" if valeur < 0 else "CRDT")
        el(el(bal, "Dt"), "Dt", date.isoformat())

    ouverture = _montant(ouverture)
    credits = sum(
        (_montant(e.montant) for e in ecritures if e.sens == "CRDT" and e.statut == "BOOK"),
        Decimal("0.00"),
    )
    debits = sum(
        (_montant(e.montant) for e in ecritures if e.sens == "DBIT" and e.statut == "BOOK"),
        Decimal("0.00"),
    )
    cloture = ouverture + credits - debits if cloture is None else _montant(cloture)
    cree_le = f"{date.isoformat()}T23:30:00+02:00"

    racine = etree.Element(f"{{{ns}}}Document", nsmap={None: ns})
    message = el(racine, "BkToCstmrStmt")
    entete = el(message, "GrpHdr")
    el(entete, "MsgId", msg_id or f"MSG-{identifiant}")
    el(entete, "CreDtTm", cree_le)

    stmt = el(message, "Stmt")
    el(stmt, "Id", identifiant)
    el(stmt, "ElctrncSeqNb", "1")
    el(stmt, "CreDtTm", cree_le)
    if periode:
        fr_to = el(stmt, "FrToDt")
        el(fr_to, "FrDtTm", f"{date.isoformat()}T00:00:00+02:00")
        el(fr_to, "ToDtTm", f"{date.isoformat()}T23:59:59+02:00")
    acct = el(stmt, "Acct")
    el(el(acct, "Id"), "IBAN", iban)
    el(acct, "Ccy", "EUR")
    solde(stmt, "OPBD", ouverture)
    solde(stmt, "CLBD", cloture)
    if resume:
        sommaire = el(stmt, "TxsSummry")
        for nom, sens in (("TtlCdtNtries", "CRDT"), ("TtlDbtNtries", "DBIT")):
            lues = [e for e in ecritures if e.sens == sens and e.statut == "BOOK"]
            bloc = el(sommaire, nom)
            el(bloc, "NbOfNtries", len(lues))
            el(bloc, "Sum", f"{sum((_montant(e.montant) for e in lues), Decimal('0.00')):.2f}")

    for ecriture in ecritures:
        ntry = el(stmt, "Ntry")
        if ecriture.ntry_ref:
            el(ntry, "NtryRef", ecriture.ntry_ref)
        montant(ntry, "Amt", ecriture.montant)
        el(ntry, "CdtDbtInd", ecriture.sens)
        if ecriture.contrepassation:
            el(ntry, "RvslInd", "true")
        if v08:
            el(el(ntry, "Sts"), "Cd", ecriture.statut)
        else:
            el(ntry, "Sts", ecriture.statut)
        el(el(ntry, "BookgDt"), "Dt", ecriture.date.isoformat())
        el(el(ntry, "ValDt"), "Dt", ecriture.date.isoformat())
        if ecriture.reference:
            el(ntry, "AcctSvcrRef", ecriture.reference)
        domaine = el(el(ntry, "BkTxCd"), "Domn")
        el(domaine, "Cd", "PMNT")
        famille = el(domaine, "Fmly")
        el(famille, "Cd", "RCDT" if ecriture.sens == "CRDT" else "ICDT")
        el(famille, "SubFmlyCd", "ESCT")
        if not ecriture.transactions:
            continue
        details = el(ntry, "NtryDtls")
        for transaction in ecriture.transactions:
            tx = el(details, "TxDtls")
            el(el(tx, "Refs"), "EndToEndId", transaction.e2e)
            if transaction.montant is not None:
                if v08:
                    montant(tx, "Amt", transaction.montant)
                else:
                    montant(el(el(tx, "AmtDtls"), "TxAmt"), "Amt", transaction.montant)
            if (
                transaction.nom_debiteur
                or transaction.iban_debiteur
                or transaction.nom_crediteur
                or transaction.iban_crediteur
            ):
                parties = el(tx, "RltdPties")
                if transaction.nom_debiteur:
                    debiteur = el(parties, "Dbtr")
                    el(el(debiteur, "Pty") if v08 else debiteur, "Nm", transaction.nom_debiteur)
                if transaction.iban_debiteur:
                    el(el(el(parties, "DbtrAcct"), "Id"), "IBAN", transaction.iban_debiteur)
                if transaction.nom_crediteur:
                    crediteur = el(parties, "Cdtr")
                    el(el(crediteur, "Pty") if v08 else crediteur, "Nm", transaction.nom_crediteur)
                if transaction.iban_crediteur:
                    el(el(el(parties, "CdtrAcct"), "Id"), "IBAN", transaction.iban_crediteur)
            if transaction.libelle:
                el(el(tx, "RmtInf"), "Ustrd", transaction.libelle)

    return etree.tostring(racine, xml_declaration=True, encoding="UTF-8", pretty_print=True)
