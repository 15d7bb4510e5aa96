"""The sandbox bank's payments: creation (idempotent), the relative's choices on the bank
pages, the timed transitions (pending outcomes, expiry), forced transitions for tests, and the
notifications each status change queues, under the test switches (drop, duplicate, delay,
reorder)."""

import datetime
import hashlib
import json
import random
import threading
import time
import uuid
from decimal import Decimal

from sandbox import banques
from sandbox.etat import Base
from sandbox.reglages import Interrupteurs

# The provider's raw statuses (the adapter maps them to the portal's normalised ones).
CREATED = "CREATED"
AUTHORISED = "AUTHORISED"
PENDING_BANK = "PENDING_BANK"
EXECUTED = "EXECUTED"
REJECTED = "REJECTED"
CANCELLED = "CANCELLED"
EXPIRED = "EXPIRED"
STATUTS = (CREATED, AUTHORISED, PENDING_BANK, EXECUTED, REJECTED, CANCELLED, EXPIRED)
FINAUX = frozenset({EXECUTED, REJECTED, CANCELLED, EXPIRED})

# The outcomes a tester picks in the bank window ("Issue simulée").
ISSUES = {
    "succes": "Succès immédiat",
    "attente_succes": "En attente à la banque, puis succès",
    "attente_refus": "En attente à la banque, puis refus",
    "refus": "Refus immédiat de la banque",
    "abandon": "Abandon : le proche ferme la fenêtre et ne revient pas",
}
ISSUE_PAR_DEFAUT = "succes"

MOTIFS = {
    REJECTED: ("AM04", "Refusé par la banque du payeur : provision insuffisante."),
    "REJECTED_DIFFERE": ("AG01", "Refusé par la banque du payeur après contrôle."),
    CANCELLED: ("CUST", "Annulé par le payeur."),
    EXPIRED: ("TIME", "Délai de validation dépassé."),
}


class PaiementIntrouvable(LookupError):
    pass


class Conflit(Exception):
    """The request does not fit the payment's state (or reuses an idempotency key)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def iso(instant: float | None) -> str | None:
    """ISO 8601 UTC, milliseconds, `Z`."""
    if instant is None:
        return None
    moment = datetime.datetime.fromtimestamp(instant, tz=datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _empreinte(donnees: dict) -> str:
    """What an idempotent replay must repeat: the money-relevant fields."""
    cle = "|".join(
        [donnees["montant"], donnees["creancier_iban"], donnees["reference_bout_en_bout"]]
    )
    return hashlib.sha256(cle.encode()).hexdigest()


class Moteur:
    def __init__(self, base: Base, interrupteurs: Interrupteurs):
        self.base = base
        self.interrupteurs = interrupteurs
        self.reveil_envoi = threading.Event()  # set when a notification is queued

    # --- Creation and reading ------------------------------------------------------------

    def creer(self, donnees: dict) -> tuple[dict, bool]:
        """Create the payment, or return the one with this idempotency key (created=False)."""
        maintenant = time.time()
        empreinte = _empreinte(donnees)
        with self.base.transaction() as cx:
            deja = cx.execute(
                "SELECT * FROM paiements WHERE cle_idempotence = ?", (donnees["cle_idempotence"],)
            ).fetchone()
            if deja is not None:
                if deja["empreinte"] != empreinte:
                    raise Conflit(
                        "cle_idempotence_reutilisee",
                        "Cette clé d'idempotence a déjà servi pour un autre paiement "
                        "(montant, IBAN ou référence différents).",
                    )
                return dict(deja), False
            identifiant = f"pay_{uuid.uuid4().hex}"
            expire_le = maintenant + self.interrupteurs["expiration_seconds"]
            cx.execute(
                """INSERT INTO paiements (id, cle_idempotence, empreinte, montant,
                    creancier_nom, creancier_iban, reference_bout_en_bout, libelle, payeur_nom,
                    payeur_email, url_retour, statut, cree_le, expire_le, maj_le)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    identifiant,
                    donnees["cle_idempotence"],
                    empreinte,
                    donnees["montant"],
                    donnees["creancier_nom"],
                    donnees["creancier_iban"],
                    donnees["reference_bout_en_bout"],
                    donnees["libelle"],
                    donnees["payeur_nom"],
                    donnees["payeur_email"],
                    donnees["url_retour"],
                    CREATED,
                    maintenant,
                    expire_le,
                    maintenant,
                ),
            )
            cx.execute(
                "INSERT INTO historique (paiement_id, de, vers, origine, survenu_le) "
                "VALUES (?, NULL, ?, 'api', ?)",
                (identifiant, CREATED, maintenant),
            )
            return dict(self._lire(cx, identifiant)), True

    def paiement(self, identifiant: str) -> dict:
        """The payment, after applying any transition that fell due (lazy expiry)."""
        maintenant = time.time()
        with self.base.lecture() as cx:  # the lock is reentrant: a write may follow
            ligne = self._lire(cx, identifiant)
            if ligne is None:
                raise PaiementIntrouvable(identifiant)
            if not self._echu(ligne, maintenant):
                return dict(ligne)
        with self.base.transaction() as cx:
            ligne = self._lire(cx, identifiant)
            if ligne is None:  # reset meanwhile
                raise PaiementIntrouvable(identifiant)
            if self._avancer(cx, ligne, maintenant):
                ligne = self._lire(cx, identifiant)
            return dict(ligne)

    def historique(self, identifiant: str) -> list[dict]:
        with self.base.lecture() as cx:
            return [
                {
                    "de": ligne["de"],
                    "vers": ligne["vers"],
                    "motif": ligne["motif"],
                    "origine": ligne["origine"],
                    "survenu_le": iso(ligne["survenu_le"]),
                }
                for ligne in cx.execute(
                    "SELECT * FROM historique WHERE paiement_id = ? ORDER BY id", (identifiant,)
                )
            ]

    @staticmethod
    def _lire(cx, identifiant: str):
        return cx.execute("SELECT * FROM paiements WHERE id = ?", (identifiant,)).fetchone()

    # --- Timed transitions ---------------------------------------------------------------

    def avancer_echus(self, limite: int = 200) -> int:
        """Apply the transitions that fell due (called by the clock thread)."""
        maintenant = time.time()
        requete = """SELECT * FROM paiements
            WHERE (statut = ? AND expire_le <= ?)
               OR (statut IN (?, ?) AND echeance IS NOT NULL AND echeance <= ?)
            LIMIT ?"""
        parametres = (CREATED, maintenant, AUTHORISED, PENDING_BANK, maintenant, limite)
        with self.base.lecture() as cx:
            if cx.execute(requete, parametres).fetchone() is None:
                return 0  # the usual case: no write transaction
        with self.base.transaction() as cx:
            lignes = cx.execute(requete, parametres).fetchall()
            return sum(1 for ligne in lignes if self._avancer(cx, ligne, maintenant))

    @staticmethod
    def _echu(ligne, maintenant: float) -> bool:
        """A timed transition is due: expiry of a payment never approved, or the outcome of a
        pending one."""
        if ligne["statut"] == CREATED:
            return ligne["expire_le"] <= maintenant
        return (
            ligne["statut"] in (AUTHORISED, PENDING_BANK)
            and ligne["echeance"] is not None
            and ligne["echeance"] <= maintenant
        )

    def _avancer(self, cx, ligne, maintenant: float) -> bool:
        if not self._echu(ligne, maintenant):
            return False
        if ligne["statut"] == CREATED:
            code, motif = MOTIFS[EXPIRED]
            return self._changer(
                cx,
                ligne,
                EXPIRED,
                origine="expiration",
                survenu_le=ligne["expire_le"],
                motif=motif,
                motif_code=code,
            )
        vers = ligne["issue_differee"] or EXECUTED
        champs = {"echeance": None, "issue_differee": None}
        if vers == EXECUTED:
            champs["execute_le"] = ligne["echeance"]
        else:
            champs["motif_code"], champs["motif"] = MOTIFS["REJECTED_DIFFERE"]
        return self._changer(
            cx, ligne, vers, origine="banque", survenu_le=ligne["echeance"], **champs
        )

    # --- The relative on the bank pages --------------------------------------------------

    def connecter(self, identifiant: str, code_banque: str) -> dict:
        with self.base.transaction() as cx:
            ligne = self._modifiable(cx, identifiant)
            cx.execute(
                "UPDATE paiements SET banque = ?, connecte = 1, maj_le = ? WHERE id = ?",
                (code_banque, time.time(), identifiant),
            )
            return dict(self._lire(cx, ligne["id"]))

    def valider(self, identifiant: str, code_banque: str, issue: str) -> dict:
        """The relative approves in the bank window with the tester's chosen outcome."""
        if issue not in ISSUES:
            raise Conflit("issue_inconnue", f"Issue simulée inconnue : {issue}")
        maintenant = time.time()
        with self.base.transaction() as cx:
            ligne = self._modifiable(cx, identifiant)
            if not ligne["connecte"] or ligne["banque"] != code_banque:
                raise Conflit("non_connecte", "Connectez-vous d'abord à votre banque.")
            banque = banques.PAR_CODE[code_banque]
            cx.execute(
                "UPDATE paiements SET issue = ?, debiteur_iban = ?, maj_le = ? WHERE id = ?",
                (issue, banques.iban_payeur(banque, ligne["payeur_nom"]), maintenant, ligne["id"]),
            )
            ligne = self._lire(cx, identifiant)
            if issue == "succes":
                self._changer(
                    cx,
                    ligne,
                    AUTHORISED,
                    origine="payeur",
                    survenu_le=maintenant,
                    autorise_le=maintenant,
                )
                self._changer(
                    cx,
                    self._lire(cx, identifiant),
                    EXECUTED,
                    origine="banque",
                    survenu_le=maintenant,
                    execute_le=maintenant,
                )
            elif issue in ("attente_succes", "attente_refus"):
                self._changer(
                    cx,
                    ligne,
                    PENDING_BANK,
                    origine="payeur",
                    survenu_le=maintenant,
                    autorise_le=maintenant,
                    echeance=maintenant + self.interrupteurs["pending_delay_seconds"],
                    issue_differee=EXECUTED if issue == "attente_succes" else REJECTED,
                )
            elif issue == "refus":
                code, motif = MOTIFS[REJECTED]
                self._changer(
                    cx,
                    ligne,
                    REJECTED,
                    origine="banque",
                    survenu_le=maintenant,
                    motif=motif,
                    motif_code=code,
                )
            # "abandon": nothing happens; the payment stays CREATED until it expires.
            return dict(self._lire(cx, identifiant))

    def annuler(self, identifiant: str) -> dict:
        maintenant = time.time()
        code, motif = MOTIFS[CANCELLED]
        with self.base.transaction() as cx:
            ligne = self._modifiable(cx, identifiant)
            self._changer(
                cx,
                ligne,
                CANCELLED,
                origine="payeur",
                survenu_le=maintenant,
                motif=motif,
                motif_code=code,
            )
            return dict(self._lire(cx, identifiant))

    def _modifiable(self, cx, identifiant: str):
        """The payment, which must still await the relative's approval."""
        ligne = self._lire(cx, identifiant)
        if ligne is None:
            raise PaiementIntrouvable(identifiant)
        if self._avancer(cx, ligne, time.time()):
            ligne = self._lire(cx, identifiant)
        if ligne["statut"] != CREATED:
            raise Conflit("deja_traite", ligne["statut"])
        return ligne

    # --- Forced transitions (tests) ------------------------------------------------------

    def forcer(
        self, identifiant: str, statut: str, motif: str = "", survenu_le: float | None = None
    ) -> dict:
        """Any transition, from any status: for tests (a success after a failure, a payment
        executed on a given day...). It always queues a notification."""
        instant = time.time() if survenu_le is None else survenu_le
        with self.base.transaction() as cx:
            ligne = self._lire(cx, identifiant)
            if ligne is None:
                raise PaiementIntrouvable(identifiant)
            champs = {"echeance": None, "issue_differee": None, "motif": motif}
            if statut in (AUTHORISED, PENDING_BANK) and ligne["autorise_le"] is None:
                champs["autorise_le"] = instant
            if statut == EXECUTED:
                champs["execute_le"] = instant
                if ligne["debiteur_iban"] is None:
                    banque = banques.PAR_CODE.get(ligne["banque"] or "", banques.BANQUE_PAR_DEFAUT)
                    champs["banque"] = banque.code
                    champs["debiteur_iban"] = banques.iban_payeur(banque, ligne["payeur_nom"])
            self._changer(
                cx, ligne, statut, origine="admin", survenu_le=instant, force=True, **champs
            )
            return dict(self._lire(cx, identifiant))

    # --- Status changes and their notifications -----------------------------------------

    def _changer(
        self, cx, ligne, vers: str, *, origine: str, survenu_le: float, force=False, **champs
    ) -> bool:
        """Compare-and-set the status (the row must still have the status read), record it,
        queue its notification. False if another thread changed it first."""
        de = ligne["statut"]
        if de == vers and not force:
            return False
        champs.setdefault("motif", "")
        champs.setdefault("motif_code", "")
        champs["statut"] = vers
        champs["maj_le"] = time.time()
        affectations = ", ".join(f"{nom} = ?" for nom in champs)
        curseur = cx.execute(
            f"UPDATE paiements SET {affectations} WHERE id = ? AND statut = ?",  # noqa: S608
            (*champs.values(), ligne["id"], de),
        )
        if curseur.rowcount != 1:
            return False
        cx.execute(
            "INSERT INTO historique (paiement_id, de, vers, motif, origine, survenu_le) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (ligne["id"], de, vers, champs["motif"], origine, survenu_le),
        )
        self._notifier(cx, ligne["id"], vers, survenu_le)
        return True

    def _notifier(self, cx, paiement_id: str, statut: str, survenu_le: float) -> None:
        reglage = self.interrupteurs.lire()
        maintenant = time.time()
        id_evenement = str(uuid.uuid4())
        corps = json.dumps(
            {
                "id_evenement": id_evenement,
                "type": "paiement.statut",
                "paiement": {"id": paiement_id, "statut": statut},
                "survenu_le": iso(survenu_le),
            },
            separators=(",", ":"),
        )
        abandonnee = self.interrupteurs.consommer("drop") or (
            reglage["drop_ratio"] > 0 and random.random() < reglage["drop_ratio"]  # noqa: S311
        )
        if abandonnee:
            lignes = [(1, "abandonnee", None)]
        else:
            etat = "retenue" if reglage["reorder"] >= 2 else "en_attente"
            retenue_le = maintenant if etat == "retenue" else None
            lignes = [(copie, etat, retenue_le) for copie in range(1, reglage["duplicate"] + 1)]
        for copie, etat, retenue_le in lignes:
            cx.execute(
                """INSERT INTO notifications (id_evenement, paiement_id, statut, corps, url,
                    copie, etat, prochaine_tentative, cree_le, retenue_le)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    id_evenement,
                    paiement_id,
                    statut,
                    corps,
                    reglage["notification_url"],
                    copie,
                    etat,
                    maintenant + reglage["delay_seconds"],
                    maintenant,
                    retenue_le,
                ),
            )
        self.reveil_envoi.set()

    # --- Statements ----------------------------------------------------------------------

    def credits(self, iban: str, debut: float, fin: float) -> list[dict]:
        """Executed payments to this IBAN whose execution falls in [debut, fin)."""
        with self.base.lecture() as cx:
            return [
                dict(ligne)
                for ligne in cx.execute(
                    """SELECT * FROM paiements WHERE creancier_iban = ? AND statut = ?
                    AND execute_le >= ? AND execute_le < ? ORDER BY execute_le, id""",
                    (iban, EXECUTED, debut, fin),
                )
            ]

    def total_avant(self, iban: str, instant: float) -> Decimal:
        with self.base.lecture() as cx:
            montants = cx.execute(
                "SELECT montant FROM paiements WHERE creancier_iban = ? AND statut = ? "
                "AND execute_le < ?",
                (iban, EXECUTED, instant),
            ).fetchall()
        return sum((Decimal(m["montant"]) for m in montants), Decimal("0.00"))

    def titulaire(self, iban: str) -> str:
        with self.base.lecture() as cx:
            ligne = cx.execute(
                "SELECT creancier_nom FROM paiements WHERE creancier_iban = ? "
                "ORDER BY cree_le DESC LIMIT 1",
                (iban,),
            ).fetchone()
        return ligne["creancier_nom"] if ligne else ""

    # --- Admin ---------------------------------------------------------------------------

    def journal_notifications(self, paiement_id: str | None = None) -> list[dict]:
        with self.base.lecture() as cx:
            if paiement_id:
                notifications = cx.execute(
                    "SELECT * FROM notifications WHERE paiement_id = ? ORDER BY id", (paiement_id,)
                ).fetchall()
            else:
                notifications = cx.execute("SELECT * FROM notifications ORDER BY id").fetchall()
            tentatives: dict[int, list] = {}
            for t in cx.execute("SELECT * FROM tentatives ORDER BY notification_id, numero"):
                tentatives.setdefault(t["notification_id"], []).append(
                    {
                        "numero": t["numero"],
                        "le": iso(t["le"]),
                        "code_http": t["code_http"],
                        "erreur": t["erreur"],
                        "duree_ms": t["duree_ms"],
                    }
                )
        return [
            {
                "id": n["id"],
                "id_evenement": n["id_evenement"],
                "paiement_id": n["paiement_id"],
                "statut": n["statut"],
                "copie": n["copie"],
                "etat": n["etat"],
                "url": n["url"],
                "corps": n["corps"],
                "cree_le": iso(n["cree_le"]),
                "livree_le": iso(n["livree_le"]),
                "nombre_tentatives": n["tentatives"],
                "prochaine_tentative": iso(n["prochaine_tentative"])
                if n["etat"] == "en_attente"
                else None,
                "tentatives": tentatives.get(n["id"], []),
            }
            for n in notifications
        ]
