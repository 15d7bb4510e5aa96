"""FranceConnect v2 login on top of mozilla-django-oidc 5.

The library verifies the signature and the nonce; it does not check `aud`, `iss`, the
`acr`, nor that the userinfo `sub` is the ID token's, and it looks users up by email.
This backend adds those checks (spec 04-franceconnect.md), looks relatives up **only**
by `sub`, refreshes their identity at each login and never gives them staff rights.
It never logs personal claims.
"""

import datetime
import hashlib
import logging

import jwt
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from .models import Utilisateur

logger = logging.getLogger(__name__)

CLAIMS_REQUIS = ("sub", "given_name", "family_name", "birthdate")


class ConnexionRefusee(SuspiciousOperation):
    """A FranceConnect answer that must not log anyone in. `code` is for the logs."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class FranceConnectBackend(OIDCAuthenticationBackend):
    def retrieve_matching_jwk(self, token):
        """Refuse before any key lookup a token without the expected algorithm or key id."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise ConnexionRefusee("jwt_illisible") from exc
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO or not header.get("kid"):
            raise ConnexionRefusee("jwt_algorithme")
        return super().retrieve_matching_jwk(token)

    def _verify_jws(self, payload, key):
        """Signature with the expected algorithm, and `iss`, `aud`, `exp` (with leeway)."""
        try:
            header = jwt.get_unverified_header(payload)
        except jwt.PyJWTError as exc:
            raise ConnexionRefusee("jwt_illisible") from exc
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
            raise ConnexionRefusee("jwt_algorithme")
        try:
            claims = jwt.decode(
                payload,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=settings.FRANCECONNECT_ISSUER,
                leeway=settings.FRANCECONNECT_LEEWAY,
                options={"require": ["iss", "aud", "sub"]},
            )
        except jwt.InvalidAudienceError as exc:
            raise ConnexionRefusee("jwt_aud") from exc
        except jwt.InvalidIssuerError as exc:
            raise ConnexionRefusee("jwt_iss") from exc
        except jwt.ExpiredSignatureError as exc:
            raise ConnexionRefusee("jwt_expire") from exc
        except jwt.InvalidSignatureError as exc:
            raise ConnexionRefusee("jwt_signature") from exc
        except jwt.PyJWTError as exc:
            raise ConnexionRefusee(f"jwt_invalide:{exc.__class__.__name__}") from exc
        self._verifier_audience(claims)
        return claims

    def _verifier_audience(self, claims: dict) -> None:
        """OpenID Connect Core §3.1.3.7 (3 to 5): the portal must be the only audience (it
        trusts no other), and an `azp`, when present, must be the portal's client id.
        PyJWT only checks that the client id is *among* the audiences."""
        audience = claims["aud"]
        audiences = [audience] if isinstance(audience, str) else list(audience)
        if audiences != [self.OIDC_RP_CLIENT_ID]:
            raise ConnexionRefusee("jwt_aud")
        if "azp" in claims and claims["azp"] != self.OIDC_RP_CLIENT_ID:
            raise ConnexionRefusee("jwt_azp")

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)
        if kwargs.get("nonce") is not None:
            # The ID token: it must be fresh and carry the eIDAS level asked for.
            if "exp" not in payload or "iat" not in payload:
                raise ConnexionRefusee("id_token_sans_exp")
            if payload.get("acr") != settings.FRANCECONNECT_ACR:
                raise ConnexionRefusee("acr")
        return payload

    def get_userinfo(self, access_token, id_token, payload):
        userinfo = super().get_userinfo(access_token, id_token, payload)
        if userinfo.get("sub") != payload.get("sub"):
            raise ConnexionRefusee("userinfo_sub")
        return userinfo

    def verify_claims(self, claims):
        return all(claims.get(nom) for nom in CLAIMS_REQUIS)

    def filter_users_by_claims(self, claims):
        return self.UserModel.objects.filter(fc_sub=claims["sub"])

    def describe_user_by_claims(self, claims):
        return "FranceConnect sub (hash) " + _empreinte(claims["sub"])

    @transaction.atomic
    def create_user(self, claims):
        utilisateur = Utilisateur(
            username=f"fc-{_empreinte(claims['sub'])}", fc_sub=claims["sub"], is_staff=False
        )
        utilisateur.set_unusable_password()
        return self.update_user(utilisateur, claims)

    def update_user(self, user, claims):
        """Identity fields come from FranceConnect only, refreshed at every login."""
        if user.is_staff or user.is_superuser:
            raise ConnexionRefusee("compte_personnel")
        try:
            naissance = datetime.date.fromisoformat(claims["birthdate"])
        except (TypeError, ValueError) as exc:
            raise ConnexionRefusee("birthdate") from exc
        user.fc_given_name = claims["given_name"]
        user.fc_family_name = claims["family_name"]
        user.fc_birthdate = naissance
        user.fc_birthplace = claims.get("birthplace") or ""
        user.fc_birthcountry = claims.get("birthcountry") or ""
        user.first_name = claims["given_name"][:150]
        user.last_name = claims["family_name"][:150]
        user.email = claims.get("email") or ""
        user.save()
        logger.info("FranceConnect login: user %s", user.pk)
        return user


def _empreinte(sub: str) -> str:
    return hashlib.sha256(sub.encode()).hexdigest()[:24]
