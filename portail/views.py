"""Site-wide pages. No business rule here: pages only show and call services."""

from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def accueil_public(request):
    return render(request, "portail/accueil_public.html", {"titre": "Accueil"})


def contact(request):
    return render(request, "portail/contact.html", {"titre": "Contact"})


def page(nom: str, titre: str):
    """A static page of the footer, rendered from templates/portail/pages/<nom>.html."""

    @require_GET
    def vue(request):
        return render(request, f"portail/pages/{nom}.html", {"titre": titre})

    vue.__name__ = nom
    return vue
