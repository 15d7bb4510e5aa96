"""The régie's outgoing transfers at the sandbox bank: a pain.001 credit-transfer file
(« remise ») is received, validated against the official XSD, and each of its transactions
is executed or rejected at once by a rule the tester sets (by default, a beneficiary IBAN
ending in `0000` is rejected, « compte clos »). Executed transactions become debit entries
of the debtor account's camt.053; the bank's answer is a pain.002.001.03 status report.

Like a real bank: the same file sent twice (same message id, same bytes) is acknowledged
once; another file reusing a message id is refused; a file whose control sums or counts do
not add up, or whose debtor account is not a valid IBAN, is refused as a whole."""

from __future__ import annotations

import datetime
import hashlib
import secrets
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from lxml import etree
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from sandbox.etat import Base

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas" / "iso20022"
NS_PAIN001 = {
    "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03": "pain.001.001.03",
    "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09": "pain.001.001.09",
}
NS_PAIN002 = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"
TAILLE_MAX = 5 * 1024 * 1024

EXECUTEE = "ACSC"  # AcceptedSettlementCompleted
REJETEE = "RJCT"

# Rejection reasons (ISO 20022 ExternalStatusReason1Code) the tester can pick.
MOTIFS_REJET = {
    "AC01": "Numéro de compte incorrect",
    "AC04": "Compte clos",
    "AC06": "Compte bloqué",
    "AM04": "Provision insuffisante",
    "BE05": "Donneur d'ordre non reconnu",
    "MS03": "Motif non précisé",
}

_PARSEUR = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
_SCHEMAS: dict[str, etree.XMLSchema] = {}


class FichierInvalide(ValueError):
    """The file is refused as a whole (HTTP 400): `erreurs` says why, line by line."""

    def __init__(self, erreurs: list[str]):
        super().__init__("; ".join(erreurs))
        self.erreurs = erreurs


class RemiseEnConflit(Exception):
    """Another file already used this message id (HTTP 409)."""


class RemiseIntrouvable(LookupError):
    pass


def schema(version: str) -> etree.XMLSchema:
    if version not in _SCHEMAS:
        _SCHEMAS[version] = etree.XMLSchema(etree.parse(str(SCHEMAS / f"{version}.xsd")))
    return _SCHEMAS[version]


@dataclass(frozen=True)
class Transaction:
    lot: str  # PmtInfId
    reference_bout_en_bout: str
    montant: Decimal
    beneficiaire_nom: str
    beneficiaire_iban: str
    beneficiaire_bic: str
    libelle: str


@dataclass(frozen=True)
class Pain001:
    version: str
    identifiant: str  # GrpHdr/MsgId
    nombre: int
    total: Decimal
    debiteur_nom: str
    debiteur_iban: str
    date_execution: str
    transactions: tuple[Transaction, ...]


def lire_pain001(contenu: bytes) -> Pain001:
    """Parse and check a pain.001 file, or raise FichierInvalide with every error found."""
    if not contenu or not contenu.strip():
        raise FichierInvalide(["fichier vide"])
    if len(contenu) > TAILLE_MAX:
        raise FichierInvalide([f"fichier trop volumineux ({len(contenu)} octets)"])
    if b"<!DOCTYPE" in contenu[:2048].upper():
        raise FichierInvalide(["DOCTYPE interdit"])
    try:
        racine = etree.fromstring(contenu, parser=_PARSEUR)
    except etree.XMLSyntaxError as exc:
        raise FichierInvalide([f"XML illisible : {exc}"]) from exc
    espace = etree.QName(racine).namespace
    version = NS_PAIN001.get(espace or "")
    if version is None:
        raise FichierInvalide([f"pain.001.001.03 ou .09 attendu, espace de noms reçu : {espace}"])
    validateur = schema(version)
    if not validateur.validate(racine):
        raise FichierInvalide(
            [f"ligne {e.line} : {e.message}" for e in list(validateur.error_log)[:10]]
        )
    ns = {"p": espace}

    def texte(element, chemin: str) -> str:
        trouve = element.find(chemin, ns)
        return (trouve.text or "").strip() if trouve is not None else ""

    erreurs: list[str] = []
    transactions: list[Transaction] = []
    debiteurs = set()
    dates = set()
    for lot in racine.findall("p:CstmrCdtTrfInitn/p:PmtInf", ns):
        lot_id = texte(lot, "p:PmtInfId")
        debiteurs.add((texte(lot, "p:Dbtr/p:Nm"), texte(lot, "p:DbtrAcct/p:Id/p:IBAN")))
        dates.add(texte(lot, "p:ReqdExctnDt") or texte(lot, "p:ReqdExctnDt/p:Dt"))
        du_lot = []
        for tx in lot.findall("p:CdtTrfTxInf", ns):
            du_lot.append(
                Transaction(
                    lot=lot_id,
                    reference_bout_en_bout=texte(tx, "p:PmtId/p:EndToEndId"),
                    montant=Decimal(texte(tx, "p:Amt/p:InstdAmt")),
                    beneficiaire_nom=texte(tx, "p:Cdtr/p:Nm"),
                    beneficiaire_iban=texte(tx, "p:CdtrAcct/p:Id/p:IBAN"),
                    beneficiaire_bic=texte(tx, "p:CdtrAgt/p:FinInstnId/p:BIC")
                    or texte(tx, "p:CdtrAgt/p:FinInstnId/p:BICFI"),
                    libelle=texte(tx, "p:RmtInf/p:Ustrd"),
                )
            )
        nombre_lot = texte(lot, "p:NbOfTxs")
        if nombre_lot and int(nombre_lot) != len(du_lot):
            erreurs.append(f"lot {lot_id} : NbOfTxs {nombre_lot} pour {len(du_lot)} transactions")
        somme_lot = texte(lot, "p:CtrlSum")
        if somme_lot and Decimal(somme_lot) != sum((t.montant for t in du_lot), Decimal(0)):
            erreurs.append(f"lot {lot_id} : CtrlSum {somme_lot} ne correspond pas aux montants")
        transactions += du_lot
    nombre = int(texte(racine, "p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs"))
    total = sum((t.montant for t in transactions), Decimal("0.00"))
    if nombre != len(transactions):
        erreurs.append(f"NbOfTxs {nombre} pour {len(transactions)} transactions")
    somme = texte(racine, "p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum")
    if somme and Decimal(somme) != total:
        erreurs.append(f"CtrlSum {somme} différent du total des transactions {total}")
    if len(debiteurs) != 1:
        erreurs.append("un seul compte débiteur par remise")
    debiteur_nom, debiteur_iban = next(iter(debiteurs)) if debiteurs else ("", "")
    try:
        debiteur_iban = IBAN(debiteur_iban).compact
    except SchwiftyException as exc:
        erreurs.append(f"IBAN du débiteur invalide : {exc}")
    references = [t.reference_bout_en_bout for t in transactions]
    if len(set(references)) != len(references):
        erreurs.append("référence de bout en bout en double dans la remise")
    if erreurs:
        raise FichierInvalide(erreurs)
    return Pain001(
        version=version,
        identifiant=texte(racine, "p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId"),
        nombre=nombre,
        total=total,
        debiteur_nom=debiteur_nom,
        debiteur_iban=debiteur_iban,
        date_execution=min(dates) if dates else "",
        transactions=tuple(transactions),
    )


def issue_transaction(tx: Transaction, suffixe_rejet: str, motif_rejet: str) -> tuple[str, str]:
    """(status, reason code) of one transaction under the tester's rule."""
    try:
        iban = IBAN(tx.beneficiaire_iban)
    except SchwiftyException:
        return REJETEE, "AC01"
    if suffixe_rejet and iban.compact.endswith(suffixe_rejet):
        return REJETEE, motif_rejet
    return EXECUTEE, ""


class Remises:
    """The files received and their transactions, in the sandbox's SQLite state."""

    def __init__(self, base: Base, interrupteurs):
        self.base = base
        self.interrupteurs = interrupteurs

    def recevoir(self, contenu: bytes, nom_fichier: str = "") -> tuple[dict, bool]:
        """Validate, store and execute a pain.001 (created=False for the same file again)."""
        pain = lire_pain001(contenu)
        empreinte = hashlib.sha256(contenu).hexdigest()
        suffixe = self.interrupteurs["rejet_iban_suffixe"]
        motif = self.interrupteurs["rejet_motif"]
        maintenant = time.time()
        with self.base.transaction() as cx:
            deja = cx.execute(
                "SELECT * FROM remises WHERE identifiant = ?", (pain.identifiant,)
            ).fetchone()
            if deja is not None:
                if deja["empreinte"] != empreinte:
                    raise RemiseEnConflit(
                        f"L'identifiant de message {pain.identifiant} a déjà servi pour un "
                        "autre fichier."
                    )
                return self._lire(cx, pain.identifiant), False
            cx.execute(
                """INSERT INTO remises (identifiant, empreinte, version, nom_fichier,
                    debiteur_nom, debiteur_iban, nombre, total, date_execution, recue_le)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    pain.identifiant,
                    empreinte,
                    pain.version,
                    nom_fichier[:200],
                    pain.debiteur_nom,
                    pain.debiteur_iban,
                    pain.nombre,
                    f"{pain.total:.2f}",
                    pain.date_execution,
                    maintenant,
                ),
            )
            for rang, tx in enumerate(pain.transactions, start=1):
                statut, code = issue_transaction(tx, suffixe, motif)
                cx.execute(
                    """INSERT INTO transactions_sortantes (remise, rang, lot,
                        reference_bout_en_bout, montant, beneficiaire_nom, beneficiaire_iban,
                        beneficiaire_bic, libelle, statut, motif_code, traitee_le)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    (
                        pain.identifiant,
                        rang,
                        tx.lot,
                        tx.reference_bout_en_bout,
                        f"{tx.montant:.2f}",
                        tx.beneficiaire_nom,
                        tx.beneficiaire_iban.replace(" ", ""),
                        tx.beneficiaire_bic,
                        tx.libelle,
                        statut,
                        code,
                        maintenant,
                    ),
                )
            return self._lire(cx, pain.identifiant), True

    def remise(self, identifiant: str) -> dict:
        with self.base.lecture() as cx:
            return self._lire(cx, identifiant)

    def toutes(self) -> list[dict]:
        with self.base.lecture() as cx:
            ids = [r["identifiant"] for r in cx.execute("SELECT identifiant FROM remises")]
            return [self._lire(cx, i) for i in sorted(ids, reverse=True)]

    @staticmethod
    def _lire(cx, identifiant: str) -> dict:
        ligne = cx.execute("SELECT * FROM remises WHERE identifiant = ?", (identifiant,)).fetchone()
        if ligne is None:
            raise RemiseIntrouvable(identifiant)
        transactions = [
            {
                "rang": t["rang"],
                "lot": t["lot"],
                "reference_bout_en_bout": t["reference_bout_en_bout"],
                "montant": t["montant"],
                "beneficiaire_nom": t["beneficiaire_nom"],
                "beneficiaire_iban": t["beneficiaire_iban"],
                "libelle": t["libelle"],
                "statut": t["statut"],
                "motif_code": t["motif_code"],
                "motif": MOTIFS_REJET.get(t["motif_code"], ""),
                "traitee_le": t["traitee_le"],
            }
            for t in cx.execute(
                "SELECT * FROM transactions_sortantes WHERE remise = ? ORDER BY rang",
                (identifiant,),
            )
        ]
        statuts = {t["statut"] for t in transactions}
        statut = "ACSC" if statuts == {EXECUTEE} else "RJCT" if statuts == {REJETEE} else "PART"
        return {**dict(ligne), "statut": statut, "transactions": transactions}

    def debits(self, iban: str, debut: float, fin: float) -> list[dict]:
        """Executed transactions debited from this account in [debut, fin)."""
        with self.base.lecture() as cx:
            return [
                {**dict(t), "debiteur_nom": t["debiteur_nom"]}
                for t in cx.execute(
                    """SELECT t.*, r.debiteur_nom FROM transactions_sortantes t
                    JOIN remises r ON r.identifiant = t.remise
                    WHERE r.debiteur_iban = ? AND t.statut = ? AND t.traitee_le >= ?
                    AND t.traitee_le < ? ORDER BY t.traitee_le, t.remise, t.rang""",
                    (iban, EXECUTEE, debut, fin),
                )
            ]

    def total_debite_avant(self, iban: str, instant: float) -> Decimal:
        with self.base.lecture() as cx:
            montants = cx.execute(
                """SELECT t.montant FROM transactions_sortantes t
                JOIN remises r ON r.identifiant = t.remise
                WHERE r.debiteur_iban = ? AND t.statut = ? AND t.traitee_le < ?""",
                (iban, EXECUTEE, instant),
            ).fetchall()
        return sum((Decimal(m["montant"]) for m in montants), Decimal("0.00"))


def _sous(parent: ET.Element, balise: str, texte: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, balise)
    if texte is not None:
        element.text = texte
    return element


def pain002(remise: dict, fuseau: str) -> bytes:
    """The bank's status report (CustomerPaymentStatusReportV03) for one received file:
    the group status, then one TxInfAndSts per transaction with its reason if rejected."""
    maintenant = datetime.datetime.now(ZoneInfo(fuseau)).replace(microsecond=0)
    document = ET.Element("Document", xmlns=NS_PAIN002)
    rapport = _sous(document, "CstmrPmtStsRpt")
    entete = _sous(rapport, "GrpHdr")
    _sous(entete, "MsgId", f"SBX002{secrets.token_hex(8).upper()}")
    _sous(entete, "CreDtTm", maintenant.isoformat())
    initiateur = _sous(entete, "InitgPty")
    _sous(initiateur, "Nm", "Sandbox bancaire")
    groupe = _sous(rapport, "OrgnlGrpInfAndSts")
    _sous(groupe, "OrgnlMsgId", remise["identifiant"])
    _sous(groupe, "OrgnlMsgNmId", remise["version"])
    _sous(groupe, "OrgnlNbOfTxs", str(remise["nombre"]))
    _sous(groupe, "OrgnlCtrlSum", remise["total"])
    _sous(groupe, "GrpSts", remise["statut"])
    par_lot: dict[str, list[dict]] = {}
    for tx in remise["transactions"]:
        par_lot.setdefault(tx["lot"], []).append(tx)
    for lot, transactions in par_lot.items():
        bloc = _sous(rapport, "OrgnlPmtInfAndSts")
        _sous(bloc, "OrgnlPmtInfId", lot)
        for tx in transactions:
            info = _sous(bloc, "TxInfAndSts")
            _sous(info, "StsId", f"{remise['identifiant'][:28]}-{tx['rang']:06d}"[-35:])
            _sous(info, "OrgnlEndToEndId", tx["reference_bout_en_bout"])
            _sous(info, "TxSts", tx["statut"])
            if tx["statut"] == REJETEE:
                raison = _sous(info, "StsRsnInf")
                _sous(_sous(raison, "Rsn"), "Cd", tx["motif_code"])
                _sous(raison, "AddtlInf", MOTIFS_REJET.get(tx["motif_code"], "Rejet")[:105])
            reference = _sous(info, "OrgnlTxRef")
            _sous(_sous(reference, "Amt"), "InstdAmt", tx["montant"]).set("Ccy", "EUR")
    ET.indent(document)
    return ET.tostring(document, encoding="UTF-8", xml_declaration=True)
