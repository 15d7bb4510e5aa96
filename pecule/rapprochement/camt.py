"""Reading an ISO 20022 camt.053 Bank-to-Customer Statement (versions 001.02 and 001.08).

The file is parsed by lxml with a hardened parser (no DTD, no entity expansion, no
network), validated against the official XSD of its version (`socle.iso20022`; the XSDs
are in `schemas/iso20022/`, see its README for their origin and checksums), then read with
namespace-aware paths. Nothing here knows about the database: `lire_camt053` returns
plain, immutable values, or raises `CamtInvalide` with a French message.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from lxml import etree

from socle import iso20022

VERSIONS = ("camt.053.001.02", "camt.053.001.08")
TAILLE_MAXIMALE = 20 * 1024 * 1024  # 20 Mo: a day of a régie's account is far smaller
CENTIME = Decimal("0.01")
MONTANT_MAXIMUM = Decimal("9999999999.99")  # what the database columns hold

CREDIT = "credit"
DEBIT = "debit"
SENS = {"CRDT": CREDIT, "DBIT": DEBIT}
SOLDES_OUVERTURE = ("OPBD", "PRCD")  # opening booked, else previous closing booked
SOLDE_CLOTURE = "CLBD"
NON_FOURNI = "NOTPROVIDED"


class CamtInvalide(ValueError):
    """The file is not a camt.053 statement this module can read (French message)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Solde:
    code: str  # OPBD, PRCD, CLBD
    montant: Decimal  # signed: negative when the indicator is DBIT
    date: datetime.date


@dataclass(frozen=True)
class TransactionLue:
    """One `TxDtls` of an entry."""

    montant: Decimal | None  # TxDtls/Amt (.08) or AmtDtls/TxAmt/Amt; None if absent
    reference_bout_en_bout: str  # "" when absent or NOTPROVIDED
    libelle: str  # the Ustrd lines, then structured creditor references, space-joined
    nom_debiteur: str
    iban_debiteur: str
    reference_banque: str  # TxDtls/Refs/AcctSvcrRef
    nom_crediteur: str = ""  # who a debit paid (Cdtr), for the régie's outgoing transfers
    iban_crediteur: str = ""


@dataclass(frozen=True)
class EcritureLue:
    """One `Ntry` of the statement."""

    position: int  # 1-based rank in the statement
    montant: Decimal
    devise: str
    sens: str  # CREDIT or DEBIT
    statut: str  # BOOK, PDNG, INFO
    contrepassation: bool  # RvslInd
    date_comptable: datetime.date | None
    date_valeur: datetime.date | None
    reference_ecriture: str  # NtryRef
    reference_banque: str  # AcctSvcrRef
    information: str  # AddtlNtryInf
    transactions: tuple[TransactionLue, ...]

    @property
    def comptabilisee(self) -> bool:
        return self.statut == "BOOK"


@dataclass(frozen=True)
class Resume:
    """TxsSummry, when the bank gives it: number and sum of credit and debit entries."""

    nombre_credits: int | None
    somme_credits: Decimal | None
    nombre_debits: int | None
    somme_debits: Decimal | None


@dataclass(frozen=True)
class ReleveLu:
    """One `Stmt` of the document."""

    identifiant: str
    emis_le: datetime.datetime
    iban: str  # compact, upper case; "" if the account is not identified by an IBAN
    devise: str  # Acct/Ccy, "" if absent
    date_debut: datetime.date
    date_fin: datetime.date
    solde_ouverture: Solde
    solde_cloture: Solde
    ecritures: tuple[EcritureLue, ...]
    resume: Resume | None

    @property
    def total_credits(self) -> Decimal:
        return sum(
            (e.montant for e in self.ecritures if e.comptabilisee and e.sens == CREDIT),
            Decimal("0.00"),
        )

    @property
    def total_debits(self) -> Decimal:
        return sum(
            (e.montant for e in self.ecritures if e.comptabilisee and e.sens == DEBIT),
            Decimal("0.00"),
        )

    @property
    def solde_calcule(self) -> Decimal:
        return self.solde_ouverture.montant + self.total_credits - self.total_debits

    @property
    def coherent(self) -> bool:
        """Opening balance + booked credits − booked debits = closing balance."""
        return self.solde_calcule == self.solde_cloture.montant


@dataclass(frozen=True)
class DocumentCamt:
    version: str  # "camt.053.001.02" or "camt.053.001.08"
    identifiant_message: str
    cree_le: datetime.datetime
    releves: tuple[ReleveLu, ...]


# --- Parsing and validation ------------------------------------------------------------


def lire_camt053(contenu: bytes) -> DocumentCamt:
    """Parse, validate against the XSD, and read a camt.053 document."""
    racine, version = iso20022.lire(
        contenu,
        versions=VERSIONS,
        nature="relevé camt.053",
        erreur=CamtInvalide,
        taille_maximale=TAILLE_MAXIMALE,
    )
    return _Lecteur(etree.QName(racine).namespace, version).document(racine)


# --- Reading ---------------------------------------------------------------------------


def _date(valeur: str) -> datetime.date:
    """xs:date may carry a time zone ("2025-06-16+02:00"): the calendar date is kept."""
    return datetime.date.fromisoformat(valeur[:10])


def _date_heure(valeur: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(valeur)


def iban_compact(valeur: str) -> str:
    return "".join(valeur.split()).upper()


class _Lecteur:
    def __init__(self, namespace: str, version: str):
        self.ns = {"c": namespace}
        self.version = version

    # Namespace-aware lookups (paths relative to an element, prefix "c").
    def _un(self, element, chemin: str):
        return element.find(chemin, self.ns)

    def _tous(self, element, chemin: str) -> list:
        return element.findall(chemin, self.ns)

    def _texte(self, element, chemin: str) -> str:
        if element is None:
            return ""
        return (element.findtext(chemin, default="", namespaces=self.ns) or "").strip()

    def _montant(self, element_montant, ou: str) -> tuple[Decimal, str]:
        texte = (element_montant.text or "").strip()
        try:
            montant = Decimal(texte)
        except InvalidOperation as exc:  # the XSD already checked it; defensive
            raise CamtInvalide(f"Montant illisible « {texte} » ({ou}).") from exc
        if montant != montant.quantize(CENTIME):
            raise CamtInvalide(f"Montant {texte} avec plus de deux décimales ({ou}).")
        if abs(montant) > MONTANT_MAXIMUM:
            raise CamtInvalide(f"Montant {texte} hors limites ({ou}).")
        return montant.quantize(CENTIME), element_montant.get("Ccy", "")

    def _date_choix(self, element) -> datetime.date | None:
        """DateAndDateTimeChoice: Dt or DtTm."""
        if element is None:
            return None
        if dt := self._texte(element, "c:Dt"):
            return _date(dt)
        if dttm := self._texte(element, "c:DtTm"):
            return _date_heure(dttm).date()
        return None

    def document(self, racine) -> DocumentCamt:
        message = self._un(racine, "c:BkToCstmrStmt")
        entete = self._un(message, "c:GrpHdr")
        releves = tuple(self.releve(stmt) for stmt in self._tous(message, "c:Stmt"))
        return DocumentCamt(
            version=self.version,
            identifiant_message=self._texte(entete, "c:MsgId"),
            cree_le=_date_heure(self._texte(entete, "c:CreDtTm")),
            releves=releves,
        )

    def _solde(self, bal) -> tuple[str, Solde, str]:
        code = self._texte(bal, "c:Tp/c:CdOrPrtry/c:Cd") or self._texte(
            bal, "c:Tp/c:CdOrPrtry/c:Prtry"
        )
        montant, devise = self._montant(self._un(bal, "c:Amt"), f"solde {code}")
        if self._texte(bal, "c:CdtDbtInd") == "DBIT":
            montant = -montant
        return (
            code,
            Solde(code=code, montant=montant, date=self._date_choix(self._un(bal, "c:Dt"))),
            devise,
        )

    def releve(self, stmt) -> ReleveLu:
        identifiant = self._texte(stmt, "c:Id")
        soldes: dict[str, list[Solde]] = {}
        for bal in self._tous(stmt, "c:Bal"):
            code, solde, devise = self._solde(bal)
            if devise != "EUR":
                raise CamtInvalide(
                    f"Relevé {identifiant} : le solde {code} est en {devise} ; seuls les "
                    "comptes en euros sont pris en charge."
                )
            soldes.setdefault(code, []).append(solde)
        ouverture = next((soldes[code] for code in SOLDES_OUVERTURE if code in soldes), None)
        cloture = soldes.get(SOLDE_CLOTURE)
        if not ouverture or not cloture:
            manquant = "d'ouverture (OPBD)" if not ouverture else "de clôture (CLBD)"
            raise CamtInvalide(f"Relevé {identifiant} : le solde {manquant} est absent.")
        if len(ouverture) > 1 or len(cloture) > 1:
            raise CamtInvalide(
                f"Relevé {identifiant} : plusieurs soldes d'ouverture ou de clôture."
            )
        ecritures = tuple(
            self.ecriture(ntry, position)
            for position, ntry in enumerate(self._tous(stmt, "c:Ntry"), start=1)
        )
        periode = self._un(stmt, "c:FrToDt")
        if periode is not None:
            date_debut = _date_heure(self._texte(periode, "c:FrDtTm")).date()
            date_fin = _date_heure(self._texte(periode, "c:ToDtTm")).date()
        else:
            date_debut, date_fin = ouverture[0].date, cloture[0].date
        if date_fin < date_debut:
            raise CamtInvalide(f"Relevé {identifiant} : la période se termine avant de commencer.")
        return ReleveLu(
            identifiant=identifiant,
            emis_le=_date_heure(self._texte(stmt, "c:CreDtTm")),
            iban=iban_compact(self._texte(stmt, "c:Acct/c:Id/c:IBAN")),
            devise=self._texte(stmt, "c:Acct/c:Ccy"),
            date_debut=date_debut,
            date_fin=date_fin,
            solde_ouverture=ouverture[0],
            solde_cloture=cloture[0],
            ecritures=ecritures,
            resume=self._resume(self._un(stmt, "c:TxsSummry")),
        )

    def _resume(self, resume) -> Resume | None:
        if resume is None:
            return None

        def nombre(chemin: str) -> int | None:
            texte = self._texte(resume, chemin)
            return int(texte) if texte else None

        def somme(chemin: str) -> Decimal | None:
            texte = self._texte(resume, chemin)
            return Decimal(texte) if texte else None

        return Resume(
            nombre_credits=nombre("c:TtlCdtNtries/c:NbOfNtries"),
            somme_credits=somme("c:TtlCdtNtries/c:Sum"),
            nombre_debits=nombre("c:TtlDbtNtries/c:NbOfNtries"),
            somme_debits=somme("c:TtlDbtNtries/c:Sum"),
        )

    def ecriture(self, ntry, position: int) -> EcritureLue:
        montant, devise = self._montant(self._un(ntry, "c:Amt"), f"écriture n° {position}")
        # 001.02: <Sts>BOOK</Sts>; 001.08: <Sts><Cd>BOOK</Cd></Sts>.
        statut = self._texte(ntry, "c:Sts/c:Cd") or self._texte(ntry, "c:Sts")
        transactions = tuple(
            self.transaction(tx, position) for tx in self._tous(ntry, "c:NtryDtls/c:TxDtls")
        )
        return EcritureLue(
            position=position,
            montant=montant,
            devise=devise,
            sens=SENS[self._texte(ntry, "c:CdtDbtInd")],
            statut=statut,
            contrepassation=self._texte(ntry, "c:RvslInd") in ("true", "1"),
            date_comptable=self._date_choix(self._un(ntry, "c:BookgDt")),
            date_valeur=self._date_choix(self._un(ntry, "c:ValDt")),
            reference_ecriture=self._texte(ntry, "c:NtryRef"),
            reference_banque=self._texte(ntry, "c:AcctSvcrRef"),
            information=self._texte(ntry, "c:AddtlNtryInf"),
            transactions=transactions,
        )

    def transaction(self, tx, position: int) -> TransactionLue:
        element_montant = self._un(tx, "c:Amt")
        if element_montant is None:
            element_montant = self._un(tx, "c:AmtDtls/c:TxAmt/c:Amt")
        montant = None
        if element_montant is not None:
            montant, _ = self._montant(element_montant, f"transaction de l'écriture n° {position}")
        bout_en_bout = self._texte(tx, "c:Refs/c:EndToEndId")
        if bout_en_bout.upper() == NON_FOURNI:
            bout_en_bout = ""
        # 001.02: Dbtr is a party (Dbtr/Nm); 001.08: a choice (Dbtr/Pty/Nm).
        parties = self._un(tx, "c:RltdPties")
        nom = self._texte(parties, "c:Dbtr/c:Nm") or self._texte(parties, "c:Dbtr/c:Pty/c:Nm")
        crediteur = self._texte(parties, "c:Cdtr/c:Nm") or self._texte(parties, "c:Cdtr/c:Pty/c:Nm")
        libelles = [(element.text or "").strip() for element in self._tous(tx, "c:RmtInf/c:Ustrd")]
        libelles += [
            (element.text or "").strip()
            for element in self._tous(tx, "c:RmtInf/c:Strd/c:CdtrRefInf/c:Ref")
        ]
        return TransactionLue(
            montant=montant,
            reference_bout_en_bout=bout_en_bout,
            libelle=" ".join(libelle for libelle in libelles if libelle),
            nom_debiteur=nom,
            iban_debiteur=iban_compact(self._texte(parties, "c:DbtrAcct/c:Id/c:IBAN")),
            reference_banque=self._texte(tx, "c:Refs/c:AcctSvcrRef"),
            nom_crediteur=crediteur,
            iban_crediteur=iban_compact(self._texte(parties, "c:CdtrAcct/c:Id/c:IBAN")),
        )
