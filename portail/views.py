"""Site-wide pages. No business rule here: pages only show and call services."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import NoReverseMatch
from django.views.decorators.http import require_GET, require_http_methods
from django.views.generic import RedirectView

from socle.limites import limiter, taille_maximale

from .forms import MessageContactForm
from .services import envoyer_message_contact


@require_GET
def accueil_public(request):
    if request.user.is_authenticated and getattr(request.user, "fc_sub", None):
        return redirect("permis:accueil")
    return render(request, "portail/accueil_public.html", {"titre": "Accueil"})


# A message is a few kilobytes (its fields' max_length); anyone may post one, so each
# address sends at most this many per hour (socle.limites).
TAILLE_MAX_CONTACT = 32 * 1024
MESSAGES_CONTACT_PAR_HEURE = 10


@require_http_methods(["GET", "POST"])
@taille_maximale(TAILLE_MAX_CONTACT)
@limiter("contact", MESSAGES_CONTACT_PAR_HEURE, 3600)
def contact(request):
    proche = request.user if getattr(request.user, "fc_sub", None) else None
    initial = {"email": proche.email} if proche else {}
    if "reference" in request.GET:
        initial["reference_virement"] = request.GET["reference"][:35]
    formulaire = MessageContactForm(request.POST or None, initial=initial)
    if request.method == "POST" and formulaire.is_valid():
        envoyer_message_contact(proche=proche, **formulaire.cleaned_data)
        messages.success(
            request,
            "Votre message a bien été envoyé. L'équipe d'assistance vous répondra par courriel.",
        )
        return redirect("portail:contact")
    envoyes = proche.messages_contact.all()[:10] if proche else []
    return render(
        request,
        "portail/contact.html",
        {"titre": "Contact", "formulaire": formulaire, "messages_envoyes": envoyes},
    )


def page(nom: str, titre: str):
    """A static page of the footer, rendered from templates/portail/pages/<nom>.html."""

    @require_GET
    def vue(request):
        return render(request, f"portail/pages/{nom}.html", {"titre": titre})

    vue.__name__ = nom
    return vue


# --- Error pages and the favicon --------------------------------------------------------------

ERREURS = {
    400: "Demande incorrecte",
    403: "Accès refusé",
    404: "Page non trouvée",
}


def _page_erreur(request, gabarit: str, statut: int):
    """A French error page with the portal's layout. Should its links not resolve (a test
    mounting other URLs), a plain French page rather than an error about the error."""
    try:
        reponse = render(request, gabarit, {"titre": ERREURS.get(statut, "Erreur")}, status=statut)
    except NoReverseMatch:
        reponse = HttpResponse(
            f'<!DOCTYPE html><html lang="fr"><title>{ERREURS.get(statut, "Erreur")}</title>'
            f"<h1>{ERREURS.get(statut, 'Erreur')}</h1><p>Erreur {statut}</p></html>",
            status=statut,
        )
    reponse.page_du_portail = True
    return reponse


def page_non_trouvee(request, exception=None):
    """The French « Page non trouvée » (handler404, and with DEBUG on through
    portail.middleware.Page404Middleware instead of Django's English technical page)."""
    return _page_erreur(request, "portail/erreurs/404.html", 404)


def acces_refuse(request, exception=None):
    """handler403."""
    return _page_erreur(request, "portail/erreurs/403.html", 403)


def demande_incorrecte(request, exception=None):
    """handler400."""
    return _page_erreur(request, "portail/erreurs/400.html", 400)


def formulaire_expire(request, reason=""):
    """CSRF_FAILURE_VIEW: a form sent without its valid token (expired, or cookies
    refused), explained in French; nothing was recorded."""
    return _page_erreur(request, "portail/erreurs/403_csrf.html", 403)


def favicon(request):
    """Browsers ask for /favicon.ico on every page without an icon link (the admin, the
    PDFs): the DSFR's icon."""
    return RedirectView.as_view(url=static("dsfr/dist/favicon/favicon.ico"))(request)
