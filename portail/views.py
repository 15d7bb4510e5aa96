"""Site-wide pages. No business rule here: pages only show and call services."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

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
