"""The API of the establishments' information systems (Django REST framework).

Every view authenticates a token of one establishment and sees only that establishment:
another establishment's permit or detainee is a 404. The views validate the input and
call `permis.services`; errors are precise for machines:
400 field errors, 401 missing or invalid token, 404 out of scope, 409 conflict
(`{"detail": "...", "code": "..."}`), 429 throttled.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import APIView, exception_handler

from regie.exceptions import DroitsInsuffisants
from regie.models import Detenu

from . import selectors, services
from .authentication import (
    EstSystemeEtablissement,
    JetonEtablissementAuthentication,
    ThrottleSystemeInformation,
)
from .exceptions import PermisError
from .models import PermisDeVisite, normaliser_numero
from .serializers import (
    DetenuEcritureSerializer,
    DetenuSerializer,
    ErreurSerializer,
    MotifSerializer,
    PermisEcritureSerializer,
    PermisSerializer,
)


class Conflit(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "La demande est en conflit avec l'état enregistré."
    default_code = "conflit"


def gestionnaire_erreurs(exc, context):
    """DRF's handler, with a stable `code` next to `detail` for non-field errors."""
    reponse = exception_handler(exc, context)
    if (
        reponse is not None
        and isinstance(exc, APIException)
        and not isinstance(exc, ValidationError)
        and isinstance(exc.detail, str)
    ):
        reponse.data = {"detail": str(exc.detail), "code": exc.detail.code}
    return reponse


ERREURS = {
    401: OpenApiResponse(ErreurSerializer, description="Jeton absent, invalide ou révoqué."),
    404: OpenApiResponse(ErreurSerializer, description="Introuvable dans votre établissement."),
    429: OpenApiResponse(ErreurSerializer, description="Trop de requêtes."),
}
ERREUR_400 = {400: OpenApiResponse(description='Erreurs par champ : {"champ": ["message"]}.')}


class VueSystemeInformation(APIView):
    authentication_classes = [JetonEtablissementAuthentication]
    permission_classes = [EstSystemeEtablissement]
    throttle_classes = [ThrottleSystemeInformation]
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]

    @property
    def jeton(self):
        return self.request.auth

    @property
    def etablissement(self):
        return self.request.auth.etablissement

    def get_exception_handler(self):
        return gestionnaire_erreurs

    def handle_exception(self, exc):
        if isinstance(exc, PermisError):
            exc = Conflit(exc.message, code=exc.code)
        elif isinstance(exc, DroitsInsuffisants):
            exc = PermissionDenied(exc.message, code=exc.code)
        elif isinstance(exc, DjangoValidationError):
            exc = ValidationError(as_serializer_error(exc))
        elif isinstance(exc, Http404):
            exc = NotFound(code="introuvable")
        return super().handle_exception(exc)

    def permis_ou_404(self, numero: str) -> PermisDeVisite:
        permis = (
            selectors.permis_du_jeton(self.jeton).filter(numero=normaliser_numero(numero)).first()
        )
        if permis is None:
            raise NotFound(
                "Aucun permis de ce numéro dans votre établissement.", code="permis_introuvable"
            )
        return permis


class PermisCollectionVue(VueSystemeInformation):
    @extend_schema(
        tags=["permis"],
        summary="Créer un permis de visite",
        request=PermisEcritureSerializer,
        responses={
            201: PermisSerializer,
            **ERREUR_400,
            **ERREURS,
            409: OpenApiResponse(
                ErreurSerializer,
                description="Ce numéro existe déjà dans l'établissement (numero_deja_utilise).",
            ),
        },
    )
    def post(self, request):
        entree = PermisEcritureSerializer(
            data=request.data, context={"etablissement": self.etablissement}
        )
        entree.is_valid(raise_exception=True)
        permis = services.creer_permis(
            etablissement=self.etablissement, jeton=self.jeton, **entree.champs_du_service()
        )
        return Response(PermisSerializer(permis).data, status=status.HTTP_201_CREATED)


class PermisDetailVue(VueSystemeInformation):
    @extend_schema(
        tags=["permis"],
        summary="Lire un permis de visite",
        responses={200: PermisSerializer, **ERREURS},
    )
    def get(self, request, numero):
        return Response(PermisSerializer(self.permis_ou_404(numero)).data)

    @extend_schema(
        tags=["permis"],
        summary="Modifier un permis de visite",
        description="Seuls les champs envoyés changent. Un permis retiré ne change plus (409).",
        request=PermisEcritureSerializer(partial=True),
        responses={
            200: PermisSerializer,
            **ERREUR_400,
            **ERREURS,
            409: OpenApiResponse(ErreurSerializer, description="Changement de statut interdit."),
        },
    )
    def patch(self, request, numero):
        permis = self.permis_ou_404(numero)
        entree = PermisEcritureSerializer(
            permis,
            data=request.data,
            partial=True,
            context={"etablissement": self.etablissement},
        )
        entree.is_valid(raise_exception=True)
        champs = entree.champs_du_service()
        champs.pop("numero", None)
        permis = services.modifier_permis(permis=permis, jeton=self.jeton, **champs)
        return Response(PermisSerializer(permis).data)


class PermisRetraitVue(VueSystemeInformation):
    @extend_schema(
        tags=["permis"],
        summary="Retirer un permis de visite",
        description="Définitif ; le permis cesse aussitôt de permettre les virements. "
        "Sans effet sur un permis déjà retiré.",
        request=MotifSerializer,
        responses={200: PermisSerializer, **ERREUR_400, **ERREURS},
    )
    def post(self, request, numero):
        permis = self.permis_ou_404(numero)
        entree = MotifSerializer(data=request.data)
        entree.is_valid(raise_exception=True)
        permis = services.retirer_permis(
            permis=permis, motif=entree.validated_data.get("motif", ""), jeton=self.jeton
        )
        return Response(PermisSerializer(permis).data)


class PermisSuspensionVue(VueSystemeInformation):
    @extend_schema(
        tags=["permis"],
        summary="Suspendre un permis de visite",
        description="Le permis cesse aussitôt de permettre les virements. Pour lever la "
        "suspension : PATCH avec « statut »: « actif ».",
        request=MotifSerializer,
        responses={
            200: PermisSerializer,
            **ERREUR_400,
            **ERREURS,
            409: OpenApiResponse(ErreurSerializer, description="Permis retiré ou expiré."),
        },
    )
    def post(self, request, numero):
        permis = self.permis_ou_404(numero)
        entree = MotifSerializer(data=request.data)
        entree.is_valid(raise_exception=True)
        permis = services.suspendre_permis(
            permis=permis, motif=entree.validated_data.get("motif", ""), jeton=self.jeton
        )
        return Response(PermisSerializer(permis).data)


class DetenuVue(VueSystemeInformation):
    @extend_schema(
        tags=["détenus"],
        summary="Lire une personne détenue",
        responses={200: DetenuSerializer, **ERREURS},
    )
    def get(self, request, numero_ecrou):
        detenu = Detenu.objects.filter(
            etablissement=self.etablissement, numero_ecrou=numero_ecrou.strip()
        ).first()
        if detenu is None:
            raise NotFound(
                "Aucune personne détenue de ce numéro d'écrou dans votre établissement.",
                code="detenu_introuvable",
            )
        return Response(DetenuSerializer(detenu).data)

    @extend_schema(
        tags=["détenus"],
        summary="Créer ou mettre à jour une personne détenue",
        description="Crée la personne (et son compte nominatif) si ce numéro d'écrou est "
        "inconnu dans l'établissement, sinon met à jour son identité, sa situation pénale, "
        "son régime et sa privation de subsides. Une libération ou un transfert se font "
        "par la régie : si la personne est écrouée dans un autre établissement, le "
        "transfert est signalé à la régie et la réponse est 409 (transfert_a_effectuer).",
        request=DetenuEcritureSerializer,
        responses={
            200: DetenuSerializer,
            201: DetenuSerializer,
            **ERREUR_400,
            **ERREURS,
            409: OpenApiResponse(
                ErreurSerializer,
                description="Personne libérée (detenu_libere) ou écrouée dans un autre "
                "établissement (transfert_a_effectuer).",
            ),
        },
    )
    def put(self, request, numero_ecrou):
        entree = DetenuEcritureSerializer(data=request.data)
        entree.is_valid(raise_exception=True)
        detenu, cree = services.mettre_a_jour_detenu_depuis_si(
            jeton=self.jeton, numero_ecrou=numero_ecrou, **entree.validated_data
        )
        return Response(
            DetenuSerializer(detenu).data,
            status=status.HTTP_201_CREATED if cree else status.HTTP_200_OK,
        )
