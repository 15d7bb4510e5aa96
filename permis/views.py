"""The relative's « Accueil » and « Ajouter un permis de visite » pages."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from comptes.decorators import proche_requis
from socle.dates import aujourdhui

from .exceptions import PermisRefuse
from .forms import AjoutPermisForm
from .selectors import permis_du_proche
from .services import enregistrer_permis


def adresse_du_client(request) -> str:
    """The client's address. Behind the reverse proxy, portail.middleware.
    AdresseClientMiddleware has set REMOTE_ADDR from X-Forwarded-For, read only when the
    peer is one of PECULE_PROXYS_DE_CONFIANCE; a header the client sends itself is never
    trusted."""
    return request.META.get("REMOTE_ADDR", "0.0.0.0")  # noqa: S104 - a value, not a bind


@require_GET
@proche_requis
def accueil(request):
    jour = aujourdhui()
    enregistrements = [
        {"enregistrement": e, "etat": e.permis.etat(jour), "valide": e.permis.est_valide(jour)}
        for e in permis_du_proche(request.user)
    ]
    return render(
        request, "permis/accueil.html", {"titre": "Accueil", "enregistrements": enregistrements}
    )


@require_http_methods(["GET", "POST"])
@proche_requis
def ajouter(request):
    formulaire = AjoutPermisForm(request.POST or None)
    if request.method == "POST" and formulaire.is_valid():
        donnees = formulaire.cleaned_data
        try:
            enregistrement = enregistrer_permis(
                proche=request.user,
                numero=donnees["numero"],
                etablissement=donnees["etablissement"],
                numero_ecrou=donnees["numero_ecrou"],
                nom_detenu=donnees["nom_detenu"],
                date_naissance_detenu=donnees["date_naissance_detenu"],
                adresse_ip=adresse_du_client(request),
            )
        except PermisRefuse as refus:
            formulaire.add_error(None, refus.message)
        else:
            detenu = enregistrement.permis.detenu
            messages.success(
                request,
                f"Le permis de visite pour {detenu.prenoms} {detenu.nom} a été ajouté à votre espace.",
            )
            return redirect("permis:accueil")
    return render(
        request,
        "permis/ajouter.html",
        {"titre": "Ajouter un permis de visite", "formulaire": formulaire},
    )
