"""Settings of the sandbox bank: the environment at startup, and the test switches that
`POST /__admin__/config` changes at run time (kept in memory: a restart goes back to the
environment's values)."""

import os
import threading
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sandbox.remises import MOTIFS_REJET

RACINE = Path(__file__).resolve().parent.parent
SECRET_DEVELOPPEMENT = "sandbox-secret-de-developpement"  # noqa: S105 (development only)


def _nombre(env, nom: str, defaut: float) -> float:
    valeur = env.get(nom, "").strip()
    if not valeur:
        return defaut
    try:
        return float(valeur)
    except ValueError:
        raise SystemExit(f"{nom}: a number is expected, not {valeur!r}") from None


@dataclass(frozen=True)
class Reglages:
    """What the environment says at startup."""

    hote: str = "127.0.0.1"
    port: int = 9100
    secret: str = SECRET_DEVELOPPEMENT
    url_notification: str = "http://127.0.0.1:8000/paiements/notifications/sandbox/"
    chemin_base: str = str(RACINE / "var" / "sandbox.sqlite3")
    url_publique: str = ""  # empty: taken from each request's host
    expiration_secondes: float = 900.0
    attente_secondes: float = 5.0
    relance_base: float = 1.0
    relance_max: float = 60.0
    tentatives_max: int = 10
    delai_notification: float = 5.0
    solde_ouverture: str = "0.00"
    fuseau: str = "Europe/Paris"
    pas_horloge: float = 0.2
    latence_get_payment_ms: float = 0.0

    @classmethod
    def depuis_environnement(cls, env=None) -> "Reglages":
        env = os.environ if env is None else env
        defaut = cls()
        solde = env.get("SANDBOX_SOLDE_OUVERTURE", defaut.solde_ouverture)
        try:
            Decimal(solde)
        except InvalidOperation:
            raise SystemExit(
                f"SANDBOX_SOLDE_OUVERTURE: a decimal is expected, not {solde!r}"
            ) from None
        secret = env.get("SANDBOX_SECRET", defaut.secret)
        if not secret:
            raise SystemExit("SANDBOX_SECRET must not be empty.")
        return cls(
            hote=env.get("SANDBOX_HOST", defaut.hote),
            port=int(_nombre(env, "SANDBOX_PORT", defaut.port)),
            secret=secret,
            url_notification=env.get("SANDBOX_NOTIFICATION_URL", defaut.url_notification),
            chemin_base=env.get("SANDBOX_DB", defaut.chemin_base),
            url_publique=env.get("SANDBOX_PUBLIC_URL", "").rstrip("/"),
            expiration_secondes=_nombre(
                env, "SANDBOX_EXPIRATION_SECONDES", defaut.expiration_secondes
            ),
            attente_secondes=_nombre(env, "SANDBOX_ATTENTE_SECONDES", defaut.attente_secondes),
            relance_base=_nombre(env, "SANDBOX_RETRY_BASE", defaut.relance_base),
            relance_max=_nombre(env, "SANDBOX_RETRY_MAX", defaut.relance_max),
            tentatives_max=int(_nombre(env, "SANDBOX_RETRY_TENTATIVES", defaut.tentatives_max)),
            delai_notification=_nombre(
                env, "SANDBOX_NOTIFICATION_TIMEOUT", defaut.delai_notification
            ),
            solde_ouverture=solde,
            fuseau=env.get("SANDBOX_FUSEAU", defaut.fuseau),
            pas_horloge=_nombre(env, "SANDBOX_TICK", defaut.pas_horloge),
            latence_get_payment_ms=_nombre(
                env, "SANDBOX_LATENCE_GET_PAYMENT_MS", defaut.latence_get_payment_ms
            ),
        )


class ConfigurationInvalide(ValueError):
    def __init__(self, champs: dict[str, str]):
        super().__init__(", ".join(f"{k}: {v}" for k, v in champs.items()))
        self.champs = champs


def _entier(minimum: int, maximum: int):
    def convertir(valeur):
        if isinstance(valeur, bool) or not isinstance(valeur, int):
            raise ValueError(f"un entier entre {minimum} et {maximum} est attendu")
        if not minimum <= valeur <= maximum:
            raise ValueError(f"doit être entre {minimum} et {maximum}")
        return valeur

    return convertir


def _reel(minimum: float, maximum: float):
    def convertir(valeur):
        if isinstance(valeur, bool) or not isinstance(valeur, int | float):
            raise ValueError(f"un nombre entre {minimum} et {maximum} est attendu")
        if not minimum <= valeur <= maximum:
            raise ValueError(f"doit être entre {minimum} et {maximum}")
        return float(valeur)

    return convertir


def _url(valeur):
    if not isinstance(valeur, str) or not valeur.startswith(("http://", "https://")):
        raise ValueError("une adresse http:// ou https:// est attendue")
    return valeur


def _decimal(valeur):
    if not isinstance(valeur, str):
        raise ValueError('un montant en chaîne est attendu, par exemple "100.00"')
    try:
        montant = Decimal(valeur)
    except InvalidOperation:
        raise ValueError("montant illisible") from None
    if not montant.is_finite() or montant.as_tuple().exponent < -2:
        raise ValueError("deux décimales au plus")
    return f"{montant:.2f}"


def _suffixe_iban(valeur):
    if not isinstance(valeur, str) or len(valeur) > 10 or (valeur and not valeur.isalnum()):
        raise ValueError(
            "une fin d'IBAN (lettres et chiffres, 10 au plus), ou une chaîne vide pour ne "
            "rien rejeter"
        )
    return valeur.upper()


def _motif_rejet(valeur):
    if valeur not in MOTIFS_REJET:
        raise ValueError(f"un code parmi {', '.join(MOTIFS_REJET)}")
    return valeur


def _statut_erreur(valeur):
    valeur = _entier(400, 599)(valeur)
    return valeur


# name -> converter; the defaults come from Reglages.
CONVERTISSEURS = {
    "notification_url": _url,
    "duplicate": _entier(1, 20),
    "delay_seconds": _reel(0, 3600),
    "reorder": _entier(0, 100),
    "reorder_window_seconds": _reel(0.05, 3600),
    "drop": _entier(0, 100_000),
    "drop_ratio": _reel(0, 1),
    "pending_delay_seconds": _reel(0, 86_400),
    "expiration_seconds": _reel(0.1, 7 * 86_400),
    "retry_base": _reel(0.01, 3600),
    "retry_max_seconds": _reel(0.01, 86_400),
    "max_attempts": _entier(1, 100),
    "notification_timeout": _reel(0.1, 60),
    "opening_balance": _decimal,
    "api_failures": _entier(0, 100_000),
    "api_failure_status": _statut_erreur,
    "rejet_iban_suffixe": _suffixe_iban,
    "rejet_motif": _motif_rejet,
    "latence_get_payment_ms": _reel(0, 60_000),
}


class Interrupteurs:
    """The run-time test switches, shared by the request threads and the background threads."""

    def __init__(self, reglages: Reglages):
        self._reglages = reglages
        self._verrou = threading.Lock()
        self._valeurs = self.defauts()

    def defauts(self) -> dict:
        r = self._reglages
        return {
            "notification_url": r.url_notification,
            "duplicate": 1,
            "delay_seconds": 0.0,
            "reorder": 0,
            "reorder_window_seconds": 2.0,
            "drop": 0,
            "drop_ratio": 0.0,
            "pending_delay_seconds": r.attente_secondes,
            "expiration_seconds": r.expiration_secondes,
            "retry_base": r.relance_base,
            "retry_max_seconds": r.relance_max,
            "max_attempts": r.tentatives_max,
            "notification_timeout": r.delai_notification,
            "opening_balance": _decimal(r.solde_ouverture),
            "api_failures": 0,
            "api_failure_status": 503,
            # Outgoing transfers (pain.001): a beneficiary IBAN ending so is rejected.
            "rejet_iban_suffixe": "0000",
            "rejet_motif": "AC04",
            # A real provider's round trip on GET /api/paiements/<id> (benchmarks).
            "latence_get_payment_ms": r.latence_get_payment_ms,
        }

    def lire(self) -> dict:
        with self._verrou:
            return dict(self._valeurs)

    def __getitem__(self, cle: str):
        with self._verrou:
            return self._valeurs[cle]

    def modifier(self, changements: dict) -> dict:
        """Validate every change first, then apply them all (or none)."""
        if not isinstance(changements, dict):
            raise ConfigurationInvalide({"": "un objet JSON est attendu"})
        erreurs, valides = {}, {}
        for cle, valeur in changements.items():
            convertir = CONVERTISSEURS.get(cle)
            if convertir is None:
                erreurs[cle] = "réglage inconnu"
                continue
            try:
                valides[cle] = convertir(valeur)
            except ValueError as exc:
                erreurs[cle] = str(exc)
        if erreurs:
            raise ConfigurationInvalide(erreurs)
        with self._verrou:
            self._valeurs.update(valides)
            return dict(self._valeurs)

    def reinitialiser(self) -> dict:
        with self._verrou:
            self._valeurs = self.defauts()
            return dict(self._valeurs)

    def consommer(self, cle: str) -> bool:
        """Decrement a counter switch (drop, api_failures) if positive; True if it was."""
        with self._verrou:
            if self._valeurs[cle] > 0:
                self._valeurs[cle] -= 1
                return True
            return False
