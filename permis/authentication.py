"""Authentication of the establishments' information systems on the API.

`Authorization: Bearer <jeton>`: the token is looked up by its SHA-256 hash among the
unrevoked ones. `request.auth` is the `JetonSystemeInformation`; `request.user` stays
anonymous (a system is not a person), so views use `EstSystemeEtablissement` instead of
`IsAuthenticated`. Requests are throttled per token (scope "systeme_information").
"""

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.throttling import SimpleRateThrottle

from . import selectors, services
from .models import JetonSystemeInformation


class JetonEtablissementAuthentication(BaseAuthentication):
    mot_cle = b"bearer"

    def authenticate(self, request):
        parties = get_authorization_header(request).split()
        if not parties or parties[0].lower() != self.mot_cle:
            return None
        if len(parties) != 2:
            raise AuthenticationFailed(
                "En-tête Authorization invalide : attendu « Bearer <jeton> ».",
                code="entete_invalide",
            )
        try:
            clair = parties[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed(
                "Jeton invalide ou révoqué.", code="jeton_invalide"
            ) from None
        jeton = selectors.jeton_actif(services.empreinte_jeton(clair))
        if jeton is None:
            raise AuthenticationFailed("Jeton invalide ou révoqué.", code="jeton_invalide")
        services.noter_usage_jeton(jeton=jeton)
        return AnonymousUser(), jeton

    def authenticate_header(self, request):
        # Makes DRF answer 401 (with this header), not 403, when the token is missing.
        return 'Bearer realm="pecule"'


class EstSystemeEtablissement(BasePermission):
    """The request carries a valid token of an establishment's information system."""

    message = "Un jeton de système d'information d'établissement est requis."

    def has_permission(self, request, view):
        jeton = request.auth
        return isinstance(jeton, JetonSystemeInformation) and jeton.actif


class ThrottleSystemeInformation(SimpleRateThrottle):
    """The rate of DEFAULT_THROTTLE_RATES["systeme_information"], per token."""

    scope = "systeme_information"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, JetonSystemeInformation):
            ident = f"jeton-{request.auth.pk}"
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class JetonEtablissementScheme(OpenApiAuthenticationExtension):
    """Describes the token in the OpenAPI schema."""

    target_class = "permis.authentication.JetonEtablissementAuthentication"
    name = "jetonEtablissement"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization",
            token_prefix="Bearer",  # noqa: S106
        )
