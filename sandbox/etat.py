"""The sandbox bank's own state: one SQLite file (or `:memory:`), one connection shared by the
request threads and the background threads under one lock. Every change is a short
`BEGIN IMMEDIATE` transaction, so a status change and the notifications it queues are written
together (an outbox): a restart loses neither."""

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS paiements (
    id TEXT PRIMARY KEY,
    cle_idempotence TEXT NOT NULL UNIQUE,
    empreinte TEXT NOT NULL,
    montant TEXT NOT NULL,
    creancier_nom TEXT NOT NULL,
    creancier_iban TEXT NOT NULL,
    reference_bout_en_bout TEXT NOT NULL,
    libelle TEXT NOT NULL,
    payeur_nom TEXT NOT NULL,
    payeur_email TEXT NOT NULL,
    url_retour TEXT NOT NULL,
    statut TEXT NOT NULL,
    motif TEXT NOT NULL DEFAULT '',
    motif_code TEXT NOT NULL DEFAULT '',
    banque TEXT,
    connecte INTEGER NOT NULL DEFAULT 0,
    issue TEXT,
    debiteur_iban TEXT,
    cree_le REAL NOT NULL,
    expire_le REAL NOT NULL,
    autorise_le REAL,
    execute_le REAL,
    echeance REAL,
    issue_differee TEXT,
    maj_le REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS paiements_a_faire ON paiements (statut, expire_le, echeance);
CREATE INDEX IF NOT EXISTS paiements_releve ON paiements (creancier_iban, execute_le);

CREATE TABLE IF NOT EXISTS historique (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    paiement_id TEXT NOT NULL,
    de TEXT,
    vers TEXT NOT NULL,
    motif TEXT NOT NULL DEFAULT '',
    origine TEXT NOT NULL,
    survenu_le REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS historique_paiement ON historique (paiement_id, id);

CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    id_evenement TEXT NOT NULL,
    paiement_id TEXT NOT NULL,
    statut TEXT NOT NULL,
    corps TEXT NOT NULL,
    url TEXT NOT NULL,
    copie INTEGER NOT NULL DEFAULT 1,
    etat TEXT NOT NULL,
    rang INTEGER NOT NULL DEFAULT 0,
    tentatives INTEGER NOT NULL DEFAULT 0,
    prochaine_tentative REAL NOT NULL,
    cree_le REAL NOT NULL,
    retenue_le REAL,
    livree_le REAL
);
CREATE INDEX IF NOT EXISTS notifications_a_envoyer
    ON notifications (etat, prochaine_tentative, rang, id);

CREATE TABLE IF NOT EXISTS tentatives (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id INTEGER NOT NULL,
    numero INTEGER NOT NULL,
    le REAL NOT NULL,
    code_http INTEGER,
    erreur TEXT NOT NULL DEFAULT '',
    duree_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS tentatives_notification ON tentatives (notification_id, numero);

CREATE TABLE IF NOT EXISTS remises (
    identifiant TEXT PRIMARY KEY,
    empreinte TEXT NOT NULL,
    version TEXT NOT NULL,
    nom_fichier TEXT NOT NULL DEFAULT '',
    debiteur_nom TEXT NOT NULL,
    debiteur_iban TEXT NOT NULL,
    nombre INTEGER NOT NULL,
    total TEXT NOT NULL,
    date_execution TEXT NOT NULL DEFAULT '',
    recue_le REAL NOT NULL
);

CREATE TABLE IF NOT EXISTS transactions_sortantes (
    remise TEXT NOT NULL,
    rang INTEGER NOT NULL,
    lot TEXT NOT NULL,
    reference_bout_en_bout TEXT NOT NULL,
    montant TEXT NOT NULL,
    beneficiaire_nom TEXT NOT NULL,
    beneficiaire_iban TEXT NOT NULL,
    beneficiaire_bic TEXT NOT NULL DEFAULT '',
    libelle TEXT NOT NULL DEFAULT '',
    statut TEXT NOT NULL,
    motif_code TEXT NOT NULL DEFAULT '',
    traitee_le REAL NOT NULL,
    PRIMARY KEY (remise, rang)
);
CREATE INDEX IF NOT EXISTS transactions_sortantes_releve
    ON transactions_sortantes (statut, traitee_le);
"""


class Base:
    def __init__(self, chemin: str):
        self.chemin = chemin
        if chemin != ":memory:":
            Path(chemin).parent.mkdir(parents=True, exist_ok=True)
        self._verrou = threading.RLock()
        self._cx = sqlite3.connect(
            chemin, check_same_thread=False, isolation_level=None, timeout=10
        )
        self._cx.row_factory = sqlite3.Row
        self._cx.execute("PRAGMA busy_timeout = 10000")
        if chemin != ":memory:":
            self._cx.execute("PRAGMA journal_mode = WAL")
            self._cx.execute("PRAGMA synchronous = FULL")
        self._cx.executescript(SCHEMA)

    @contextmanager
    def transaction(self):
        """One write transaction; the lock also keeps the other threads out meanwhile."""
        with self._verrou:
            self._cx.execute("BEGIN IMMEDIATE")
            try:
                yield self._cx
            except BaseException:
                self._cx.execute("ROLLBACK")
                raise
            self._cx.execute("COMMIT")

    @contextmanager
    def lecture(self):
        with self._verrou:
            yield self._cx

    def vider(self) -> None:
        with self.transaction() as cx:
            for table in (
                "tentatives",
                "notifications",
                "historique",
                "paiements",
                "transactions_sortantes",
                "remises",
            ):
                cx.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed table names)

    def fermer(self) -> None:
        with self._verrou:
            self._cx.close()
