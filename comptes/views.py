"""FranceConnect login callback, errors and logout. Never a 500 for a user's journey."""

import logging
import secrets
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib import auth
from django.core.exceptions import SuspiciousOperation
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView

logger = logging.getLogger(__name__)

MESSAGES_ERREUR = {
    "access_denied": "Vous avez annulé la connexion avec FranceConnect.",
    "session": "Votre demande de connexion a expiré ou a déjà été utilisée (par exemple après un "
    "retour en arrière ou le rechargement de la page).",
    "indisponible": "FranceConnect n’a pas répondu. Le service est peut-être momentanément "
    "indisponible.",
    "refus": "La connexion avec FranceConnect n’a pas abouti : l’identité transmise n’a pas pu "
    "être vérifiée.",
}


def _erreur(request, cause: str, statut: int = 400):
    return render(
        request,
        "comptes/erreur_connexion.html",
        {"titre": "Connexion impossible", "message": MESSAGES_ERREUR[cause], "cause": cause},
        status=statut,
    )


class RetourFranceConnect(OIDCAuthenticationCallbackView):
    """FranceConnect's redirect back: errors, unknown state and refused tokens end on a
    French page that offers to try again."""

    def login_failure(self):
        return _erreur(self.request, "refus")

    def get(self, request):
        etats = request.session.get("oidc_states", {})
        state = request.GET.get("state")
        if "error" in request.GET:
            if state in etats:
                del etats[state]
                request.session.save()
            erreur = request.GET.get("error", "")
            logger.info("FranceConnect callback error: %s", erreur[:50])
            return _erreur(request, "access_denied" if erreur == "access_denied" else "refus")
        if not state or state not in etats or "code" not in request.GET:
            logger.info("FranceConnect callback with an unknown state")
            return _erreur(request, "session")
        try:
            return super().get(request)
        except requests.RequestException:
            logger.warning("FranceConnect unreachable during the callback", exc_info=True)
            return _erreur(request, "indisponible", statut=502)
        except SuspiciousOperation as exc:
            logger.warning("FranceConnect login refused: %s", exc)
            return _erreur(request, "refus")


@require_GET
def erreur(request):
    return _erreur(request, "refus")


@require_POST
def deconnexion(request):
    """Log out of the portal, then out of FranceConnect (its end-session endpoint, with the
    stored ID token and a state checked on return)."""
    id_token = request.session.get("oidc_id_token")
    auth.logout(request)
    if not id_token:
        return HttpResponseRedirect(reverse("comptes:deconnexion_fin"))
    state = secrets.token_urlsafe(32)
    request.session["fc_logout_state"] = state
    parametres = urlencode(
        {
            "id_token_hint": id_token,
            "state": state,
            "post_logout_redirect_uri": request.build_absolute_uri(
                reverse("comptes:deconnexion_fin")
            ),
        }
    )
    return HttpResponseRedirect(f"{settings.FRANCECONNECT_LOGOUT_URL}?{parametres}")


@require_GET
def deconnexion_fin(request):
    attendu = request.session.pop("fc_logout_state", None)
    recu = request.GET.get("state")
    if recu is not None and (attendu is None or not secrets.compare_digest(attendu, recu)):
        logger.info("FranceConnect logout returned with an unexpected state")
    return render(
        request,
        "comptes/deconnexion.html",
        {"titre": "Déconnexion", "etat_verifie": recu is not None and recu == attendu},
    )
