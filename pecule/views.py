"""The relative's « Pécule » pages: the transfer journey and the history. The detainee's
balance is never shown: it is their own private data."""

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from comptes.decorators import proche_requis
from permis.selectors import permis_du_proche, permis_enregistre_du_proche_ou_404
from socle.dates import aujourdhui
from socle.erreurs import ErreurMetier

from . import services
from .forms import MontantForm
from .fournisseurs.base import ErreurFournisseur
from .models import EtatProche, StatutPaiement, Virement
from .releves.services import periode_des_six_derniers_mois, virements_des_six_derniers_mois


def _lignes_permis(proche):
    jour = aujourdhui()
    return [
        {"enregistrement": e, "etat": e.permis.etat(jour), "valide": e.permis.est_valide(jour)}
        for e in permis_du_proche(proche)
    ]


@require_GET
@proche_requis
def index(request):
    return render(
        request,
        "pecule/index.html",
        {"titre": "Pécule", "enregistrements": _lignes_permis(request.user)},
    )


def _contexte_detenu(request, pk):
    enregistrement = permis_enregistre_du_proche_ou_404(request.user, pk)
    permis = enregistrement.permis
    jour = aujourdhui()
    return {
        "titre": f"Pécule de {permis.detenu.prenoms} {permis.detenu.nom}",
        "enregistrement": enregistrement,
        "detenu": permis.detenu,
        "etablissement": permis.etablissement,
        "etat": permis.etat(jour),
        "valide": permis.est_valide(jour),
    }


@require_GET
@proche_requis
def detenu(request, pk):
    return render(request, "pecule/detenu.html", _contexte_detenu(request, pk))


@require_http_methods(["GET", "POST"])
@proche_requis
def alimenter(request, pk):
    contexte = _contexte_detenu(request, pk)
    if not contexte["valide"]:
        # The detainee page says « Virement impossible » and why.
        return render(request, "pecule/detenu.html", contexte)
    formulaire = MontantForm(request.POST or None)
    if request.method == "POST" and formulaire.is_valid():
        cle = str(formulaire.cleaned_data["jeton"])
        url_retour = request.build_absolute_uri(reverse("pecule:retour", args=[cle]))
        try:
            virement = services.initier_virement(
                proche=request.user,
                detenu=contexte["detenu"],
                montant=formulaire.cleaned_data["montant"],
                cle_idempotence=cle,
                url_retour=url_retour,
            )
        except ErreurMetier as refus:
            formulaire.add_error("montant", str(refus))
        except ErreurFournisseur:
            formulaire.add_error(
                None,
                "Le service de paiement est momentanément indisponible. Réessayez dans quelques "
                "instants : aucun virement n'a été réalisé.",
            )
        else:
            return HttpResponseRedirect(virement.url_banque)
    contexte.update({"titre": "Alimenter le pécule", "formulaire": formulaire})
    return render(request, "pecule/alimenter.html", contexte)


def _virement_du_proche(request, cle) -> Virement:
    return get_object_or_404(
        Virement.objects.select_related("detenu", "etablissement"),
        cle_idempotence=cle,
        proche=request.user,
    )


def _actualiser(virement: Virement) -> Virement:
    """Ask the provider (the browser's return carries nothing trustworthy)."""
    if virement.est_final or not virement.id_fournisseur:
        return virement
    try:
        return services.actualiser_virement(virement=virement, origine="retour")
    except ErreurFournisseur:
        return virement


@require_GET
@proche_requis
def retour(request, cle):
    """Back from the bank's window: the status comes from the provider, never the URL."""
    virement = _actualiser(_virement_du_proche(request, cle))
    return render(
        request,
        "pecule/retour.html",
        {"titre": "Retour de votre banque", "virement": virement, "EtatProche": EtatProche},
    )


@require_POST
@proche_requis
def confirmer(request, cle):
    """« Confirmer »: the relative finalises; the page shows what the bank said."""
    virement = _actualiser(_virement_du_proche(request, cle))
    if virement.statut_paiement in (
        StatutPaiement.REFUSE,
        StatutPaiement.ANNULE,
        StatutPaiement.EXPIRE,
    ):
        messages.error(
            request,
            f"Le virement {virement.reference} n'a pas été réalisé : {virement.etat_proche.label.lower()}.",
        )
        return redirect("pecule:retour", cle)
    return render(
        request,
        "pecule/confirmation.html",
        {"titre": "Virement confirmé", "virement": virement, "EtatProche": EtatProche},
    )


@require_GET
@proche_requis
def historique(request):
    depuis, fin = periode_des_six_derniers_mois()
    virements = virements_des_six_derniers_mois(request.user, fin=fin)
    return render(
        request,
        "pecule/historique.html",
        {"titre": "Historique des virements", "virements": virements, "depuis": depuis},
    )
