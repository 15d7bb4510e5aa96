"""The adapter for the sandbox bank (sandbox/, docs/sandbox-banque.md): a payment initiation
provider stand-in run as its own process, for development, demos and tests.

Options (settings.PECULE_FOURNISSEURS["sandbox"]["OPTIONS"]): `url` of the sandbox bank,
`secret` shared with it (API bearer token and notification HMAC key), `timeout` of each HTTP
call in seconds (default 5).
"""

import datetime
import hashlib
import hmac
import json
import re
import threading
import time
from decimal import Decimal

import requests

from .base import (
    ErreurFournisseur,
    EtatPaiement,
    EvenementFournisseur,
    FournisseurPaiement,
    PaiementCree,
    Payeur,
    SignatureInvalide,
    StatutPaiement,
)

# The sandbox's raw statuses -> normalised statuses.
STATUTS = {
    "CREATED": StatutPaiement.INITIE,
    "AUTHORISED": StatutPaiement.AUTORISE,
    "PENDING_BANK": StatutPaiement.AUTORISE,
    "EXECUTED": StatutPaiement.EXECUTE,
    "REJECTED": StatutPaiement.REFUSE,
    "CANCELLED": StatutPaiement.ANNULE,
    "EXPIRED": StatutPaiement.EXPIRE,
}
ENTETE_SIGNATURE = "pecule-signature"
TOLERANCE_SECONDES = 300  # a notification signed more than 5 minutes away is refused
TYPE_STATUT = "paiement.statut"
HEX_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


def _date(texte) -> datetime.datetime:
    if not isinstance(texte, str):
        raise ValueError(f"ISO 8601 date expected, got {texte!r}")
    moment = datetime.datetime.fromisoformat(texte)
    if moment.tzinfo is None:
        raise ValueError(f"date without a time zone: {texte!r}")
    return moment


def _statut(brut) -> str:
    try:
        return STATUTS[brut]
    except (KeyError, TypeError):
        raise ValueError(f"unknown sandbox status {brut!r}") from None


class FournisseurSandbox(FournisseurPaiement):
    def __init__(
        self,
        *,
        nom: str,
        url: str = "http://127.0.0.1:9100",
        secret: str = "",
        timeout: float = 5,
        **options,
    ):
        super().__init__(nom=nom, **options)
        self.url = url.rstrip("/")
        self.secret = secret
        self.timeout = float(timeout)
        self._local = threading.local()  # one requests.Session per thread

    # --- HTTP -------------------------------------------------------------------------------

    def _appel(self, methode: str, chemin: str, **kwargs) -> requests.Response:
        """One call to the sandbox; network errors, 5xx and 429 are transient, other 4xx not."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        try:
            reponse = session.request(
                methode,
                f"{self.url}{chemin}",
                headers={"Authorization": f"Bearer {self.secret}"},
                timeout=self.timeout,
                allow_redirects=False,
                **kwargs,
            )
        except requests.RequestException as exc:
            raise ErreurFournisseur(
                f"sandbox unreachable ({type(exc).__name__}): {exc}", transitoire=True
            ) from exc
        if reponse.status_code >= 500 or reponse.status_code == 429:
            raise ErreurFournisseur(
                f"sandbox answered {reponse.status_code}: {reponse.text[:300]}", transitoire=True
            )
        if reponse.status_code >= 400:
            raise ErreurFournisseur(
                f"sandbox refused the request ({reponse.status_code}): {reponse.text[:500]}",
                transitoire=False,
            )
        return reponse

    def _json(self, reponse: requests.Response) -> dict:
        try:
            corps = reponse.json()
        except ValueError as exc:
            raise ErreurFournisseur(
                f"sandbox answered {reponse.status_code} without JSON", transitoire=True
            ) from exc
        if not isinstance(corps, dict):
            raise ErreurFournisseur("sandbox answered an unexpected JSON", transitoire=True)
        return corps

    # --- The interface ---------------------------------------------------------------------

    def create_payment(
        self,
        *,
        montant: Decimal,
        creancier_nom: str,
        creancier_iban: str,
        reference_bout_en_bout: str,
        libelle: str,
        payeur: Payeur,
        url_retour: str,
        cle_idempotence: str,
    ) -> PaiementCree:
        corps = self._json(
            self._appel(
                "POST",
                "/api/paiements",
                json={
                    "montant": f"{Decimal(montant):.2f}",
                    "creancier_nom": creancier_nom,
                    "creancier_iban": creancier_iban,
                    "reference_bout_en_bout": reference_bout_en_bout,
                    "libelle": libelle,
                    "payeur": {"nom": payeur.nom, "email": payeur.email},
                    "url_retour": url_retour,
                    "cle_idempotence": cle_idempotence,
                },
            )
        )
        try:
            return PaiementCree(
                id_fournisseur=str(corps["id"]),
                url_redirection=str(corps["url_redirection"]),
                expire_le=_date(corps["expire_le"]),
            )
        except (KeyError, ValueError) as exc:
            raise ErreurFournisseur(f"unexpected sandbox answer: {exc}", transitoire=True) from exc

    def get_payment(self, id_fournisseur: str) -> EtatPaiement:
        corps = self._json(self._appel("GET", f"/api/paiements/{id_fournisseur}"))
        brut = corps.get("statut")
        try:
            statut = _statut(brut)
        except ValueError as exc:
            raise ErreurFournisseur(str(exc), transitoire=False) from exc
        return EtatPaiement(
            statut=statut,
            statut_brut=brut,
            motif=str(corps.get("motif") or ""),
            iban_payeur=str(corps.get("debiteur_iban") or "")[:34],
        )

    def verify_notification(self, entetes: dict[str, str], corps: bytes) -> None:
        """`Pecule-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256("<t>.<raw body>")>`:
        missing, unreadable, wrong or more than 5 minutes away from now -> SignatureInvalide."""
        if not self.secret:
            raise SignatureInvalide("secret_non_configure")
        valeur = next((v for k, v in entetes.items() if k.lower() == ENTETE_SIGNATURE and v), None)
        if valeur is None:
            raise SignatureInvalide("signature_absente")
        instant, signatures = None, []
        for morceau in valeur.split(","):
            cle, egal, donnee = morceau.strip().partition("=")
            if not egal:
                raise SignatureInvalide("signature_illisible")
            if cle == "t":
                if instant is not None or not donnee.isascii() or not donnee.isdigit():
                    raise SignatureInvalide("signature_illisible")
                instant = int(donnee)
            elif cle == "v1":
                if not HEX_SHA256.match(donnee):
                    raise SignatureInvalide("signature_illisible")
                signatures.append(donnee.lower())
        if instant is None or not signatures:
            raise SignatureInvalide("signature_illisible")
        if isinstance(corps, str):
            corps = corps.encode()
        attendue = hmac.new(
            self.secret.encode(), f"{instant}.".encode() + bytes(corps), hashlib.sha256
        ).hexdigest()
        # Every v1 is compared (several are allowed, e.g. during a secret rotation).
        if not any(hmac.compare_digest(attendue, signature) for signature in signatures):
            raise SignatureInvalide("signature_invalide")
        if abs(time.time() - instant) > TOLERANCE_SECONDES:
            raise SignatureInvalide("signature_perimee")

    def parse_notification(self, corps: bytes) -> list[EvenementFournisseur]:
        """The event of a (verified) notification; ValueError if it is malformed. Types other
        than `paiement.statut` carry no event for the portal."""
        donnees = json.loads(corps)
        if not isinstance(donnees, dict):
            raise ValueError("a JSON object is expected")
        if donnees.get("type") != TYPE_STATUT:
            return []
        paiement = donnees.get("paiement")
        id_evenement = donnees.get("id_evenement")
        if not isinstance(paiement, dict) or not isinstance(id_evenement, str) or not id_evenement:
            raise ValueError("id_evenement and paiement are required")
        identifiant = paiement.get("id")
        if not isinstance(identifiant, str) or not identifiant:
            raise ValueError("paiement.id is required")
        brut = paiement.get("statut")
        survenu_le = donnees.get("survenu_le")
        return [
            EvenementFournisseur(
                id_evenement=id_evenement,
                id_fournisseur=identifiant,
                statut=_statut(brut),
                statut_brut=brut,
                survenu_le=_date(survenu_le) if survenu_le is not None else None,
            )
        ]

    # --- Bank statement (reconciliation) ---------------------------------------------------

    def releve_camt053(self, iban: str, jour: datetime.date) -> bytes:
        """The régie account's camt.053.001.02 statement for that day, as the bank sends it."""
        iban = iban.replace(" ", "").upper()
        reponse = self._appel("GET", f"/api/releves/{iban}", params={"date": jour.isoformat()})
        return reponse.content
