"""Fintecture (PIS v2, « Immediate Transfer »): a real French payment initiation provider
behind `FournisseurPaiement`. See docs/fournisseur-fintecture.md for the pages this follows.

- Authentication: OAuth2 `client_credentials` (Basic base64(app_id:app_secret), scope PIS)
  on /oauth/accesstoken; the token (valid 1 h) is cached and renewed shortly before expiry,
  or at once when the API answers 401.
- Every API request carries the HTTP signature Fintecture requires in production
  (draft-cavage "Signing HTTP Messages"): `Date`, `X-Request-ID` (UUID v4), `Digest`
  (SHA-256 of the body, for POST) and `Signature: keyId="<app_id>",algorithm="rsa-sha256",
  headers="(request-target) date [digest] x-request-id",signature="<base64 RSA-SHA256>"`.
- Payments: POST /pis/v2/connect?redirect_uri=…&state=… creates a payment session (amount
  as a decimal string, communication, end_to_end_id, beneficiary, expiry in seconds) and
  answers the session id and the Connect URL; GET /pis/v2/payments/{session_id} answers its
  status (`meta.status`), mapped to StatutPaiement, the raw status kept.
- Notifications (webhooks): Fintecture sends `Digest`, `Date`, `X-Request-ID` and a
  `Signature` whose `signature` value is the signing string ("date: …\\ndigest: …\\n
  x-request-id: …", the headers listed in its `headers` parameter, in that order) encrypted
  with the application's public key (RSA-OAEP): the portal decrypts it with its private key,
  compares it with the headers received, checks the digest against the raw body and the
  date against a tolerance.
"""

from __future__ import annotations

import base64
import datetime
import email.utils
import hashlib
import hmac
import json
import re
import threading
import time
import unicodedata
import uuid
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl, quote, unquote, urlencode

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

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

INITIE, AUTORISE, EXECUTE, REFUSE, ANNULE, EXPIRE = (
    StatutPaiement.INITIE,
    StatutPaiement.AUTORISE,
    StatutPaiement.EXECUTE,
    StatutPaiement.REFUSE,
    StatutPaiement.ANNULE,
    StatutPaiement.EXPIRE,
)

URLS_API = {
    "sandbox": "https://api-sandbox.fintecture.com",
    "production": "https://api.fintecture.com",
}

# Payment session statuses ("API Payment Session Status") -> normalised status, and what
# the status means (the `motif` kept with it). `payment_unsuccessful` is final or
# intermediate depending on the shop's setup: see the `echec_definitif` option.
STATUTS: dict[str, tuple[str, str]] = {
    # Created, waiting for the relative: bank selection, then the bank's authentication.
    "provider_required": (INITIE, ""),
    "sca_required": (INITIE, ""),
    "payment_waiting": (INITIE, ""),
    "session_initiated": (INITIE, "paiement initié, en attente d'une action manuelle"),
    # Technical failure: intermediate at Fintecture, the relative may try again.
    "payment_error": (INITIE, "échec technique, le proche peut réessayer"),
    # Approved, pending at the bank (awaiting funds / bank or Fintecture action).
    "payment_pending": (AUTORISE, ""),
    "payment_unknown": (AUTORISE, "état inconnu, en attente de la banque ou de Fintecture"),
    "payment_partial": (AUTORISE, "montant reçu inférieur au montant attendu"),
    # Final.
    "payment_created": (EXECUTE, ""),
    "payment_unsuccessful": (REFUSE, "refusé par le payeur ou par sa banque"),
    "payment_cancelled": (ANNULE, "paiement annulé"),
    "payment_expired": (EXPIRE, "session de paiement expirée"),
}

# SEPA's Latin character set (EPC guidelines): what every bank in the chain accepts.
_HORS_SEPA = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")
_REFERENCE_SEPA = re.compile(r"[A-Za-z0-9/\-?:().,'+]{1,35}")
_PARAMETRE_SIGNATURE = re.compile(r'(\w+)="([^"]*)"')
_MARGE_JETON = 60  # renew the token this many seconds before it expires
_REPONSE_ILLISIBLE = "réponse illisible"


def _texte_sepa(texte: str, longueur: int) -> str:
    """`texte` within SEPA's character set (accents dropped, other characters replaced by a
    space) and `longueur` characters."""
    sans_accents = "".join(
        c for c in unicodedata.normalize("NFKD", texte) if not unicodedata.combining(c)
    )
    return " ".join(_HORS_SEPA.sub(" ", sans_accents).split())[:longueur].strip()


def empreinte(corps: bytes) -> str:
    """The `Digest` header value of a body: "SHA-256=" + base64(SHA-256(body))."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(corps).digest()).decode("ascii")


def chaine_a_signer(entetes: list[tuple[str, str]]) -> str:
    """The signing string: one "name: value" line per signed header, in order."""
    return "\n".join(f"{nom.lower()}: {valeur}" for nom, valeur in entetes)


def _entete(entetes: dict[str, str], nom: str) -> str | None:
    nom = nom.lower()
    for cle, valeur in entetes.items():
        if cle.lower() == nom:
            return valeur
    return None


def _charger_cle_privee(pem: str, fichier: str) -> rsa.RSAPrivateKey:
    if fichier:
        with open(fichier, "rb") as source:
            donnees = source.read()
    else:
        # A PEM put in one environment variable often has its newlines escaped.
        donnees = pem.replace("\\n", "\n").encode("ascii")
    cle = serialization.load_pem_private_key(donnees, password=None)
    if not isinstance(cle, rsa.RSAPrivateKey):
        raise ValueError("Fintecture: la clé privée de l'application doit être une clé RSA.")
    return cle


class FournisseurFintecture(FournisseurPaiement):
    """Fintecture's PIS v2 API. Options (settings PECULE_FOURNISSEURS[nom]["OPTIONS"]):

    - `app_id`, `app_secret`: the application's credentials (Fintecture Console);
    - `cle_privee` (PEM text) or `cle_privee_fichier` (a path): the application's private
      key, which signs requests and decrypts the notifications' signature;
    - `environnement`: "sandbox" (default) or "production"; `url_api` overrides the URL;
    - `beneficiaire`: "requete" (default: the régie's name and IBAN are sent with each
      payment) or "application" (the account registered with Fintecture at activation is
      credited; `iban_application` then lists, comma-separated, the IBANs it may be, and a
      payment to another régie is refused rather than sent to the wrong account);
    - `duree_validite`: the payment session's lifetime in seconds (default 3600);
    - `echec_definitif`: True (default) when the shop treats `payment_unsuccessful` as
      final (retries disabled at Fintecture); False maps it to `initie`;
    - `tolerance_notification`: seconds a notification's `Date` may be off (default 300;
      0 disables the check);
    - `oaep_hash`: hash of the notifications' RSA-OAEP padding, "sha1" (default, as
      Fintecture's SDKs) or "sha256";
    - `langue`, `pays`: the `x-language` / `x-country` headers (default "fr", "FR");
    - `delai`: network timeout in seconds (default 10);
    - `cache`: the Django cache alias remembering payments per idempotency key (default
      "default"; "" disables it).
    """

    def __init__(
        self,
        *,
        nom: str,
        app_id: str,
        app_secret: str,
        cle_privee: str = "",
        cle_privee_fichier: str = "",
        environnement: str = "sandbox",
        url_api: str = "",
        beneficiaire: str = "requete",
        iban_application: str = "",
        duree_validite: int = 3600,
        echec_definitif: bool = True,
        tolerance_notification: int = 300,
        oaep_hash: str = "sha1",
        langue: str = "fr",
        pays: str = "FR",
        delai: float = 10,
        cache: str = "default",
        session: requests.Session | None = None,
        horloge: Callable[[], datetime.datetime] | None = None,
    ):
        super().__init__(nom=nom)
        if not app_id or not app_secret:
            raise ValueError("Fintecture: app_id et app_secret sont requis.")
        if beneficiaire not in ("requete", "application"):
            raise ValueError("Fintecture: beneficiaire vaut « requete » ou « application ».")
        if oaep_hash not in ("sha1", "sha256"):
            raise ValueError("Fintecture: oaep_hash vaut « sha1 » ou « sha256 ».")
        self.app_id = app_id
        self._app_secret = app_secret
        self._cle_privee = _charger_cle_privee(cle_privee, cle_privee_fichier)
        self.url_api = (url_api or URLS_API[environnement]).rstrip("/")
        self.beneficiaire = beneficiaire
        self.ibans_application = {self._iban(i) for i in iban_application.split(",") if i.strip()}
        self.duree_validite = int(duree_validite)
        self.echec_definitif = bool(echec_definitif)
        self.tolerance_notification = int(tolerance_notification)
        # SHA-1 here is only OAEP padding's hash (as Fintecture's SDKs), not a signature.
        self._oaep_hash = hashes.SHA1() if oaep_hash == "sha1" else hashes.SHA256()  # noqa: S303
        self.langue = langue
        self.pays = pays
        self.delai = float(delai)
        self._alias_cache = cache
        self._session = session or requests.Session()
        self._horloge = horloge or (lambda: datetime.datetime.now(datetime.UTC))
        self._verrou = threading.Lock()
        self._jeton: str | None = None
        self._jeton_expire: float = 0.0

    # --- Authentication ----------------------------------------------------------------

    def _maintenant(self) -> float:
        return self._horloge().timestamp()

    def jeton(self) -> str:
        """The PIS access token, fetched once and reused until shortly before it expires."""
        with self._verrou:
            if self._jeton and self._maintenant() < self._jeton_expire - _MARGE_JETON:
                return self._jeton
            basique = base64.b64encode(f"{self.app_id}:{self._app_secret}".encode()).decode()
            reponse = self._envoyer(
                "POST",
                "/oauth/accesstoken",
                corps=urlencode(
                    {"grant_type": "client_credentials", "app_id": self.app_id, "scope": "PIS"}
                ).encode("ascii"),
                entetes={
                    "Authorization": f"Basic {basique}",
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Accept": "application/json",
                },
            )
            donnees = self._json(reponse)
            jeton = donnees.get("access_token")
            if not jeton:
                raise ErreurFournisseur(
                    "Fintecture: réponse d'authentification sans access_token", transitoire=False
                )
            self._jeton = jeton
            self._jeton_expire = self._maintenant() + int(donnees.get("expires_in") or 3600)
            return jeton

    def _oublier_jeton(self) -> None:
        with self._verrou:
            self._jeton = None
            self._jeton_expire = 0.0

    # --- Signed requests ---------------------------------------------------------------

    def entetes_signes(self, methode: str, cible: str, corps: bytes | None) -> dict[str, str]:
        """The HTTP signature headers of a request to `cible` (path and query string)."""
        entetes = {
            "Date": email.utils.formatdate(self._maintenant(), usegmt=True),
            "X-Request-ID": str(uuid.uuid4()),
        }
        signes = [("(request-target)", f"{methode.lower()} {cible}"), ("date", entetes["Date"])]
        if corps is not None:
            entetes["Digest"] = empreinte(corps)
            signes.append(("digest", entetes["Digest"]))
        signes.append(("x-request-id", entetes["X-Request-ID"]))
        signature = self._cle_privee.sign(
            chaine_a_signer(signes).encode("utf-8"), padding.PKCS1v15(), hashes.SHA256()
        )
        entetes["Signature"] = (
            f'keyId="{self.app_id}",algorithm="rsa-sha256",'
            f'headers="{" ".join(nom for nom, _ in signes)}",'
            f'signature="{base64.b64encode(signature).decode("ascii")}"'
        )
        return entetes

    def _appel_api(self, methode: str, cible: str, donnees: dict | None = None) -> dict:
        corps = None
        if donnees is not None:
            corps = json.dumps(donnees, ensure_ascii=False, separators=(",", ":")).encode()
        for tentative in (1, 2):
            entetes = {
                "Authorization": f"Bearer {self.jeton()}",
                "Accept": "application/json",
                "x-language": self.langue,
                "x-country": self.pays,
                **self.entetes_signes(methode, cible, corps),
            }
            if corps is not None:
                entetes["Content-Type"] = "application/json"
            try:
                return self._json(self._envoyer(methode, cible, corps=corps, entetes=entetes))
            except _JetonRefuse:
                # The token was revoked or expired early: fetch a new one, once.
                self._oublier_jeton()
                if tentative == 2:
                    raise ErreurFournisseur(
                        "Fintecture: jeton d'accès refusé (401)", transitoire=False
                    ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _envoyer(
        self, methode: str, cible: str, *, corps: bytes | None, entetes: dict[str, str]
    ) -> requests.Response:
        try:
            reponse = self._session.request(
                methode,
                self.url_api + cible,
                data=corps,
                headers=entetes,
                timeout=self.delai,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise ErreurFournisseur(f"Fintecture injoignable : {exc}", transitoire=True) from exc
        if reponse.status_code == 401 and "Bearer" in entetes.get("Authorization", ""):
            raise _JetonRefuse()
        if reponse.status_code == 429 or reponse.status_code >= 500:
            raise ErreurFournisseur(
                f"Fintecture: HTTP {reponse.status_code} {self._message_erreur(reponse)}",
                transitoire=True,
            )
        if reponse.status_code >= 300:
            raise ErreurFournisseur(
                f"Fintecture: HTTP {reponse.status_code} {self._message_erreur(reponse)}",
                transitoire=False,
            )
        return reponse

    @staticmethod
    def _message_erreur(reponse: requests.Response) -> str:
        """The provider's own words: `errors[].message|detail|title` (API) or
        `error_description` / `error` (OAuth)."""
        try:
            donnees = reponse.json()
        except ValueError:
            return reponse.reason or ""
        if not isinstance(donnees, dict):
            return reponse.reason or ""
        messages = []
        for erreur in donnees.get("errors") or []:
            if isinstance(erreur, dict):
                texte = erreur.get("message") or erreur.get("detail") or erreur.get("title")
                code = erreur.get("code")
                if texte:
                    messages.append(f"{code}: {texte}" if code else str(texte))
        if not messages:
            texte = donnees.get("error_description") or donnees.get("error")
            if texte:
                messages.append(str(texte))
        return "; ".join(messages) or reponse.reason or ""

    @staticmethod
    def _json(reponse: requests.Response) -> dict:
        try:
            donnees = reponse.json()
        except ValueError:
            raise ErreurFournisseur(
                f"Fintecture: {_REPONSE_ILLISIBLE} (HTTP {reponse.status_code})", transitoire=True
            ) from None
        if not isinstance(donnees, dict):
            raise ErreurFournisseur(f"Fintecture: {_REPONSE_ILLISIBLE}", transitoire=True)
        return donnees

    # --- Payments ----------------------------------------------------------------------

    @staticmethod
    def _iban(iban: str) -> str:
        return "".join(iban.split()).upper()

    def corps_paiement(
        self,
        *,
        montant: Decimal,
        creancier_nom: str,
        creancier_iban: str,
        reference_bout_en_bout: str,
        libelle: str,
        payeur: Payeur,
    ) -> dict:
        """The /pis/v2/connect body (JSON:API-like `meta` + `data.attributes`)."""
        try:
            centimes = Decimal(montant).quantize(Decimal("0.01"))
        except InvalidOperation:
            raise ErreurFournisseur(f"montant invalide : {montant}", transitoire=False) from None
        if centimes <= 0 or centimes != Decimal(montant):
            raise ErreurFournisseur(f"montant invalide : {montant}", transitoire=False)
        reference = reference_bout_en_bout.strip()
        if (
            not _REFERENCE_SEPA.fullmatch(reference)
            or reference.startswith("/")
            or reference.endswith("/")
            or "//" in reference
        ):
            # The régie reconciles on it: never altered, refused if a bank would alter it.
            raise ErreurFournisseur(
                f"référence de bout en bout invalide pour SEPA : {reference!r}", transitoire=False
            )
        iban = self._iban(creancier_iban)
        attributs = {
            "amount": f"{centimes:.2f}",
            "currency": "EUR",
            "communication": _texte_sepa(libelle, 140),
            "end_to_end_id": reference,
        }
        if self.beneficiaire == "requete":
            attributs["beneficiary"] = {
                "name": _texte_sepa(creancier_nom, 70),
                "iban": iban,
                "country": iban[:2],
            }
        elif self.ibans_application and iban not in self.ibans_application:
            raise ErreurFournisseur(
                "Fintecture: l'IBAN de cette régie n'est pas le compte enregistré de "
                "l'application (option iban_application)",
                transitoire=False,
            )
        meta = {"psu_name": _texte_sepa(payeur.nom, 70), "expiry": self.duree_validite}
        if payeur.email:
            meta["psu_email"] = payeur.email
        return {"meta": meta, "data": {"type": "PIS", "attributes": attributs}}

    def _cache(self):
        if not self._alias_cache:
            return None
        from django.core.cache import caches

        return caches[self._alias_cache]

    def _cle_cache(self, cle_idempotence: str) -> str:
        empreinte_cle = hashlib.sha256(cle_idempotence.encode()).hexdigest()
        return f"pecule:fournisseur:{self.nom}:paiement:{empreinte_cle}"

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
        # Fintecture documents no idempotency header: the payment created for a key is
        # remembered (shared cache), and a concurrent creation with the same key waits for
        # it rather than opening a second session.
        corps = self.corps_paiement(
            montant=montant,
            creancier_nom=creancier_nom,
            creancier_iban=creancier_iban,
            reference_bout_en_bout=reference_bout_en_bout,
            libelle=libelle,
            payeur=payeur,
        )
        cache = self._cache()
        cle = self._cle_cache(cle_idempotence)
        if cache is not None:
            deja = self._deja_cree(cache, cle)
            if deja is not None:
                return deja
        try:
            # `state` comes back on the redirection and in notifications (≤ 512 chars).
            cible = "/pis/v2/connect?" + urlencode(
                {"redirect_uri": url_retour, "state": cle_idempotence[:512]}
            )
            expire_le = self._horloge() + datetime.timedelta(seconds=self.duree_validite)
            meta = self._appel_api("POST", cible, corps).get("meta") or {}
            session_id, url = meta.get("session_id"), meta.get("url")
            if not session_id or not url:
                raise ErreurFournisseur(
                    "Fintecture: réponse sans session_id ni url", transitoire=False
                )
            paiement = PaiementCree(
                id_fournisseur=str(session_id), url_redirection=url, expire_le=expire_le
            )
            if cache is not None:
                cache.set(
                    cle,
                    {
                        "id": paiement.id_fournisseur,
                        "url": paiement.url_redirection,
                        "expire_le": paiement.expire_le.isoformat(),
                    },
                    timeout=max(self.duree_validite, 60) + 3600,
                )
            return paiement
        finally:
            if cache is not None:
                cache.delete(cle + ":en-cours")

    def _deja_cree(self, cache, cle: str) -> PaiementCree | None:
        for _ in range(40):
            memoire = cache.get(cle)
            if memoire is not None:
                return PaiementCree(
                    id_fournisseur=memoire["id"],
                    url_redirection=memoire["url"],
                    expire_le=datetime.datetime.fromisoformat(memoire["expire_le"]),
                )
            if cache.add(cle + ":en-cours", True, timeout=60):
                return None
            time.sleep(0.25)
        raise ErreurFournisseur(
            "Fintecture: création du paiement déjà en cours pour cette clé", transitoire=True
        )

    def etat(self, statut_brut: str, transfert: str = "") -> EtatPaiement:
        """The normalised status of a raw session status (unknown ones: `initie`, the lowest
        rank, so that they never move a transfer; the raw status is kept)."""
        statut, motif = STATUTS.get(statut_brut, (INITIE, f"statut inconnu : {statut_brut}"))
        if statut_brut == "payment_unsuccessful" and not self.echec_definitif:
            statut, motif = INITIE, "refusé, le proche peut réessayer"
        if transfert and statut != EXECUTE:
            motif = (
                f"{motif} (transfer_state={transfert})" if motif else f"transfer_state={transfert}"
            )
        return EtatPaiement(statut=statut, statut_brut=statut_brut, motif=motif)

    def get_payment(self, id_fournisseur: str) -> EtatPaiement:
        donnees = self._appel_api("GET", f"/pis/v2/payments/{quote(id_fournisseur, safe='')}")
        meta = donnees.get("meta") or {}
        statut_brut = meta.get("status")
        if not statut_brut:
            raise ErreurFournisseur("Fintecture: réponse sans statut", transitoire=False)
        data = donnees.get("data") if isinstance(donnees.get("data"), dict) else {}
        transfert = (
            data.get("transfer_state")
            or (data.get("attributes") or {}).get("transfer_state")
            or meta.get("transfer_state")
            or ""
        )
        return self.etat(str(statut_brut), str(transfert))

    # --- Notifications -----------------------------------------------------------------

    def verify_notification(self, entetes: dict[str, str], corps: bytes) -> None:
        signature = _entete(entetes, "Signature")
        if not signature:
            raise SignatureInvalide("signature_absente")
        digest = _entete(entetes, "Digest")
        if not digest:
            raise SignatureInvalide("digest_absent")
        parametres = dict(_PARAMETRE_SIGNATURE.findall(signature))
        signes = parametres.get("headers", "").lower().split()
        if not parametres.get("signature") or "digest" not in signes or "date" not in signes:
            raise SignatureInvalide("signature_malformee")
        try:
            chiffre = base64.b64decode(unquote(parametres["signature"]), validate=True)
            clair = self._cle_privee.decrypt(
                chiffre,
                padding.OAEP(
                    mgf=padding.MGF1(algorithm=self._oaep_hash),
                    algorithm=self._oaep_hash,
                    label=None,
                ),
            ).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise SignatureInvalide("signature_indechiffrable") from None
        attendu = []
        for nom in signes:
            valeur = _entete(entetes, nom)
            if valeur is None:
                raise SignatureInvalide(f"entete_signe_absent:{nom}")
            attendu.append((nom, valeur))
        clair = clair.replace("\r\n", "\n").strip()
        if not hmac.compare_digest(clair.encode(), chaine_a_signer(attendu).encode()):
            raise SignatureInvalide("signature_incorrecte")
        if not hmac.compare_digest(digest.strip().encode(), empreinte(corps).encode()):
            raise SignatureInvalide("digest_incorrect")
        if self.tolerance_notification:
            try:
                envoyee = email.utils.parsedate_to_datetime(_entete(entetes, "Date") or "")
            except (TypeError, ValueError):
                raise SignatureInvalide("date_illisible") from None
            if envoyee.tzinfo is None:
                envoyee = envoyee.replace(tzinfo=datetime.UTC)
            ecart = abs((self._horloge() - envoyee).total_seconds())
            if ecart > self.tolerance_notification:
                raise SignatureInvalide("notification_perimee")

    def parse_notification(self, corps: bytes) -> list[EvenementFournisseur]:
        """A notification carries one session's status, form-encoded (Fintecture's
        default) or JSON: session_id, status, event, transfer_state, state, provider…"""
        texte = corps.decode("utf-8")
        if texte.lstrip().startswith("{"):
            champs = json.loads(texte)
            if not isinstance(champs, dict):
                raise ValueError("notification JSON inattendue")
            champs = {k: "" if v is None else str(v) for k, v in champs.items()}
        else:
            champs = dict(parse_qsl(texte, keep_blank_values=True, strict_parsing=True))
        if champs.get("type") == "Refund" or champs.get("refund_status"):
            return []  # refunds are not payments of a transfer
        session_id, statut_brut = champs["session_id"], champs["status"]
        if not session_id or not statut_brut:
            raise ValueError("notification sans session_id ni status")
        transfert = champs.get("transfer_state", "")
        etat = self.etat(statut_brut, transfert)
        # No event id is sent: the same status of the same session is the same event
        # (a re-delivery is stored once); another status or transfer state is a new one.
        id_evenement = ":".join(filter(None, (session_id, statut_brut, transfert)))
        if len(id_evenement) > 100:  # the inbox's column
            id_evenement = (
                f"{session_id[:60]}:{hashlib.sha256(id_evenement.encode()).hexdigest()[:32]}"
            )
        return [
            EvenementFournisseur(
                id_evenement=id_evenement,
                id_fournisseur=session_id,
                statut=etat.statut,
                statut_brut=statut_brut,
            )
        ]


class _JetonRefuse(Exception):
    """The API answered 401 to a Bearer token."""
