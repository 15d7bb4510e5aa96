"""Site-wide pages. No business rule here: pages only show and call services."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from .forms import MessageContactForm
from .services import envoyer_message_contact


@require_GET
def accueil_public(request):
    if request.user.is_authenticated and getattr(request.user, "fc_sub", None):
        return redirect("permis:accueil")
    return render(request, "portail/accueil_public.html", {"titre": "Accueil"})


@require_http_methods(["GET", "POST"])
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
