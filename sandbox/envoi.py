"""Delivery of the signed notifications: one background thread reads the queue kept in the
SQLite state (so a restart loses nothing), POSTs each notification, and retries with
exponential back-off until a 2xx or the maximum number of attempts. Each attempt is signed
again with a fresh timestamp. A clock thread applies the timed transitions (pending outcomes,
expiry)."""

import hashlib
import hmac
import http.client
import logging
import threading
import time
from urllib.parse import urlsplit

from sandbox.moteur import Moteur

logger = logging.getLogger("sandbox.envoi")

ATTENTE_MAX = 0.25  # the threads never sleep longer than this: they notice a stop quickly


def signer(secret: str, corps: bytes, instant: int) -> str:
    """The `Pecule-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256("<t>.<body>")>`."""
    mac = hmac.new(secret.encode(), f"{instant}.".encode() + corps, hashlib.sha256)
    return f"t={instant},v1={mac.hexdigest()}"


def poster(url: str, corps: bytes, entetes: dict, delai: float) -> tuple[int | None, str]:
    """POST without following redirects; (HTTP status, "") or (None, the network error)."""
    morceaux = urlsplit(url)
    classe = (
        http.client.HTTPSConnection if morceaux.scheme == "https" else http.client.HTTPConnection
    )
    chemin = (morceaux.path or "/") + (f"?{morceaux.query}" if morceaux.query else "")
    connexion = classe(morceaux.hostname, morceaux.port, timeout=delai)
    try:
        connexion.request("POST", chemin, body=corps, headers=entetes)
        reponse = connexion.getresponse()
        reponse.read(65_536)
        return reponse.status, ""
    except (OSError, http.client.HTTPException) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    finally:
        connexion.close()


class _Fil:
    """A daemon thread running `travailler()` until stopped; `travailler` returns how long
    to wait before the next round."""

    nom = "sandbox"

    def __init__(self, reveil: threading.Event | None = None):
        self._arret = threading.Event()
        self._reveil = reveil or threading.Event()
        self._fil = threading.Thread(target=self._boucle, name=self.nom, daemon=True)

    def demarrer(self) -> None:
        self._fil.start()

    def arreter(self, delai: float = 5.0) -> None:
        self._arret.set()
        self._reveil.set()
        self._fil.join(timeout=delai)

    def _boucle(self) -> None:
        while not self._arret.is_set():
            self._reveil.clear()
            try:
                attente = self.travailler()
            except Exception:
                logger.exception("%s: unexpected error", self.nom)
                attente = ATTENTE_MAX
            if attente > 0:
                self._reveil.wait(timeout=min(attente, ATTENTE_MAX))

    def travailler(self) -> float:
        raise NotImplementedError


class Horloge(_Fil):
    """Applies the transitions that fell due: pending outcomes, expiry."""

    nom = "sandbox-horloge"

    def __init__(self, moteur: Moteur, pas: float):
        super().__init__()
        self.moteur = moteur
        self.pas = pas

    def travailler(self) -> float:
        self.moteur.avancer_echus()
        return self.pas


class Expediteur(_Fil):
    """Sends the queued notifications, one at a time, in queue order."""

    nom = "sandbox-notifications"

    def __init__(self, moteur: Moteur, secret: str):
        super().__init__(moteur.reveil_envoi)
        self.moteur = moteur
        self.secret = secret

    def travailler(self) -> float:
        maintenant = time.time()
        reglage = self.moteur.interrupteurs.lire()
        self._liberer_retenues(reglage, maintenant)
        with self.moteur.base.lecture() as cx:
            notification = cx.execute(
                """SELECT * FROM notifications
                WHERE etat = 'en_attente' AND prochaine_tentative <= ?
                ORDER BY prochaine_tentative, rang, id LIMIT 1""",
                (maintenant,),
            ).fetchone()
        if notification is None:
            return ATTENTE_MAX
        self._envoyer(notification, reglage)
        return 0

    def _liberer_retenues(self, reglage: dict, maintenant: float) -> None:
        """The reorder switch: held notifications are released in reverse order, by batches
        of `reorder`, or all of them once the oldest has waited `reorder_window_seconds` (or
        when the switch is turned off)."""
        with self.moteur.base.lecture() as cx:
            if cx.execute("SELECT 1 FROM notifications WHERE etat = 'retenue'").fetchone() is None:
                return  # the usual case: no write transaction
        with self.moteur.base.transaction() as cx:
            retenues = cx.execute(
                "SELECT id, prochaine_tentative, retenue_le FROM notifications "
                "WHERE etat = 'retenue' ORDER BY id"
            ).fetchall()
            if not retenues:
                return
            taille = reglage["reorder"]
            if taille < 2:
                lot = retenues
            elif len(retenues) >= taille:
                lot = retenues[:taille]
            elif maintenant - retenues[0]["retenue_le"] >= reglage["reorder_window_seconds"]:
                lot = retenues
            else:
                return
            heure = max(maintenant, *(n["prochaine_tentative"] for n in lot))
            cx.executemany(
                "UPDATE notifications SET etat = 'en_attente', prochaine_tentative = ?, "
                "rang = ? WHERE id = ? AND etat = 'retenue'",
                [(heure, -n["id"], n["id"]) for n in lot],
            )

    def _envoyer(self, notification, reglage: dict) -> None:
        corps = notification["corps"].encode()
        instant = int(time.time())
        entetes = {
            "Content-Type": "application/json",
            "User-Agent": "pecule-sandbox-banque/1",
            "Pecule-Signature": signer(self.secret, corps, instant),
        }
        debut = time.monotonic()
        code, erreur = poster(notification["url"], corps, entetes, reglage["notification_timeout"])
        duree_ms = int((time.monotonic() - debut) * 1000)
        maintenant = time.time()
        with self.moteur.base.transaction() as cx:
            actuelle = cx.execute(
                "SELECT tentatives, etat FROM notifications WHERE id = ?", (notification["id"],)
            ).fetchone()
            if actuelle is None or actuelle["etat"] != "en_attente":
                return  # reset meanwhile
            numero = actuelle["tentatives"] + 1
            cx.execute(
                "INSERT INTO tentatives (notification_id, numero, le, code_http, erreur, "
                "duree_ms) VALUES (?, ?, ?, ?, ?, ?)",
                (notification["id"], numero, maintenant, code, erreur, duree_ms),
            )
            if code is not None and 200 <= code < 300:
                cx.execute(
                    "UPDATE notifications SET tentatives = ?, etat = 'livree', livree_le = ? "
                    "WHERE id = ?",
                    (numero, maintenant, notification["id"]),
                )
                return
            if numero >= reglage["max_attempts"]:
                cx.execute(
                    "UPDATE notifications SET tentatives = ?, etat = 'echec' WHERE id = ?",
                    (numero, notification["id"]),
                )
                logger.warning(
                    "Notification %s given up after %s attempts", notification["id"], numero
                )
                return
            attente = min(reglage["retry_base"] * 2 ** (numero - 1), reglage["retry_max_seconds"])
            cx.execute(
                "UPDATE notifications SET tentatives = ?, prochaine_tentative = ? WHERE id = ?",
                (numero, maintenant + attente, notification["id"]),
            )
