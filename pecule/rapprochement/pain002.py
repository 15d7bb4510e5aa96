"""Reading the régie's bank's status report on a batch of outgoing transfers: ISO 20022
pain.002.001.03 (CustomerPaymentStatusReportV03), parsed and validated through
`socle.iso20022` (hardened parser, official XSD), then read with namespace-aware paths.
Nothing here knows about the database: `lire_pain002` returns plain values or raises
`Pain002Invalide` with a French message."""

from __future__ import annotations

from dataclasses import dataclass

from socle import iso20022

VERSIONS = ("pain.002.001.03",)
TAILLE_MAXIMALE = 5 * 1024 * 1024

# ISO 20022 transaction statuses (ExternalPaymentTransactionStatus1Code, TransactionIndividualStatus3Code).
REJETE = "RJCT"

# The reasons a bank gives most often (ExternalStatusReason1Code), in French.
RAISONS = {
    "AC01": "numéro de compte incorrect",
    "AC04": "compte clos",
    "AC06": "compte bloqué",
    "AG01": "opération interdite sur ce compte",
    "AM04": "provision insuffisante",
    "AM05": "virement en double",
    "BE05": "donneur d'ordre non reconnu",
    "MD07": "titulaire du compte décédé",
    "MS02": "motif non précisé par le bénéficiaire",
    "MS03": "motif non précisé par la banque",
    "RC01": "code BIC incorrect",
    "RR01": "informations réglementaires manquantes",
}


class Pain002Invalide(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class StatutTransaction:
    reference_bout_en_bout: str
    statut: str  # ACSC, ACCP, RJCT…
    code_raison: str
    raison: str

    @property
    def rejetee(self) -> bool:
        return self.statut == REJETE


@dataclass(frozen=True)
class Pain002:
    identifiant_message: str
    message_origine: str  # OrgnlMsgId: the batch's GrpHdr/MsgId
    statut_groupe: str
    code_raison_groupe: str
    raison_groupe: str
    transactions: tuple[StatutTransaction, ...]


def raison_en_clair(code: str, information: str = "") -> str:
    texte = RAISONS.get(code, "")
    if information and information.lower() != texte:
        texte = f"{texte} – {information}" if texte else information
    return texte or "motif non précisé"


def lire_pain002(contenu: bytes) -> Pain002:
    racine, version = iso20022.lire(
        contenu,
        versions=VERSIONS,
        nature="compte rendu pain.002",
        erreur=Pain002Invalide,
        taille_maximale=TAILLE_MAXIMALE,
    )
    ns = {"p": iso20022.PREFIXE_ESPACE + version}

    def texte(element, chemin: str) -> str:
        if element is None:
            return ""
        return (element.findtext(chemin, default="", namespaces=ns) or "").strip()

    rapport = racine.find("p:CstmrPmtStsRpt", ns)
    groupe = rapport.find("p:OrgnlGrpInfAndSts", ns)
    code_groupe = texte(groupe, "p:StsRsnInf/p:Rsn/p:Cd")
    transactions = tuple(
        StatutTransaction(
            reference_bout_en_bout=texte(tx, "p:OrgnlEndToEndId"),
            statut=texte(tx, "p:TxSts"),
            code_raison=texte(tx, "p:StsRsnInf/p:Rsn/p:Cd"),
            raison=raison_en_clair(
                texte(tx, "p:StsRsnInf/p:Rsn/p:Cd"), texte(tx, "p:StsRsnInf/p:AddtlInf")
            ),
        )
        for tx in rapport.iterfind("p:OrgnlPmtInfAndSts/p:TxInfAndSts", ns)
    )
    return Pain002(
        identifiant_message=texte(rapport, "p:GrpHdr/p:MsgId"),
        message_origine=texte(groupe, "p:OrgnlMsgId"),
        statut_groupe=texte(groupe, "p:GrpSts"),
        code_raison_groupe=code_groupe,
        raison_groupe=raison_en_clair(code_groupe, texte(groupe, "p:StsRsnInf/p:AddtlInf")),
        transactions=transactions,
    )
