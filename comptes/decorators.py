from functools import wraps

from django.contrib import messages
from django.shortcuts import redirect


def proche_requis(vue):
    """The relatives' space: logged in through FranceConnect. Staff accounts are never
    relatives; anyone else is sent to the home page and its FranceConnect button."""

    @wraps(vue)
    def enveloppe(request, *args, **kwargs):
        utilisateur = request.user
        if not utilisateur.is_authenticated or not getattr(utilisateur, "fc_sub", None):
            if utilisateur.is_authenticated:
                messages.error(
                    request, "Cet espace est réservé aux proches connectés avec FranceConnect."
                )
            else:
                messages.info(
                    request, "Connectez-vous avec FranceConnect pour accéder à votre espace."
                )
            return redirect("portail:accueil_public")
        return vue(request, *args, **kwargs)

    return enveloppe
