"""The relative's « Pécule » pages: the transfer journey and the history. The detainee's
balance is never shown: it is their own private data."""

import datetime

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from comptes.decorators import proche_requis
from permis.selectors import permis_du_proche, permis_enregistre_du_proche_ou_404
from socle.dates import aujourdhui
from socle.erreurs import ErreurMetier
from socle.formats import de, euros

from . import selectors, services
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


def _premier_du_mois_suivant(jour: datetime.date) -> datetime.date:
    return (jour.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def _contexte_detenu(request, pk):
    enregistrement = permis_enregistre_du_proche_ou_404(request.user, pk)
    permis = enregistrement.permis
    detenu = permis.detenu
    jour = aujourdhui()
    valide = permis.est_valide(jour)
    nom_detenu = f"{detenu.prenoms} {detenu.nom}"
    return {
        "titre": f"Pécule {de(nom_detenu)}",
        "enregistrement": enregistrement,
        "detenu": detenu,
        "nom_detenu": nom_detenu,
        "etablissement": permis.etablissement,
        "etat": permis.etat(jour),
        "valide": valide,
        # What the relative may still send, and the D.422 expense naming them (if any).
        "marges": selectors.marges_du_mois(request.user, detenu, jour) if valide else None,
        "depense": selectors.depense_autorisee(request.user, detenu) if valide else None,
        "reouverture": _premier_du_mois_suivant(jour),
    }


@require_GET
@proche_requis
def detenu(request, pk):
    return render(request, "pecule/detenu.html", _contexte_detenu(request, pk))


def _apercu(request, contexte, montant):
    """The estimate of the répartition of `montant` (None if there is no amount)."""
    if montant is None:
        return None
    try:
        return selectors.apercu_repartition(
            proche=request.user, detenu=contexte["detenu"], montant=montant
        )
    except (ErreurMetier, ValueError):
        return None


@require_http_methods(["GET", "POST"])
@proche_requis
def alimenter(request, pk):
    contexte = _contexte_detenu(request, pk)
    if not contexte["valide"]:
        # The detainee page says « Virement impossible » and why.
        return render(request, "pecule/detenu.html", contexte)
    montant = None
    if request.method == "POST":
        formulaire = MontantForm(request.POST)
        if formulaire.is_valid():
            montant = formulaire.cleaned_data["montant"]
            if "apercu" not in request.POST:
                reponse = _realiser_virement(request, contexte, formulaire)
                if reponse is not None:
                    return reponse
    else:
        # « Envoyer les … € autorisés » (D.422) opens the form with the amount typed in.
        montant = _montant_saisi(request.GET.get("montant"))
        formulaire = MontantForm(initial={"montant": montant})
    marges = contexte["marges"]
    if marges is not None and contexte["depense"] is None:
        # What is still possible, under the amount itself (on a phone the caps come after).
        formulaire.fields["montant"].help_text += (
            f" – ce mois-ci, {euros(marges.maximum)} au plus"
            if marges.maximum
            else " – le plafond de ce mois est atteint"
        )
    contexte.update(
        {
            "titre": "Alimenter le pécule",
            "formulaire": formulaire,
            "apercu": _apercu(request, contexte, montant),
        }
    )
    return render(request, "pecule/alimenter.html", contexte)


def _montant_saisi(texte):
    """The amount typed (read as the form reads it), or None if there is none or it is
    not an amount: no estimate then, and no error before the relative submits."""
    if not texte:
        return None
    try:
        return MontantForm.base_fields["montant"].clean(texte)
    except ValidationError:
        return None


def _realiser_virement(request, contexte, formulaire):
    """« Réaliser le virement »: the redirect to the bank, or None (the form's errors)."""
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
    return None


@require_GET
@proche_requis
def repartition(request, pk):
    """The estimate under the amount, refreshed as the relative types (portail/repartition.js):
    the same fragment the page shows after « Estimer la répartition »."""
    contexte = _contexte_detenu(request, pk)
    montant = _montant_saisi(request.GET.get("montant")) if contexte["valide"] else None
    contexte["apercu"] = _apercu(request, contexte, montant)
    return render(request, "pecule/_repartition_contenu.html", contexte)


def _virement_du_proche(request, cle) -> Virement:
    return get_object_or_404(
        Virement.objects.select_related("detenu", "etablissement"),
        cle_idempotence=cle,
        proche=request.user,
    )


ECHECS = (StatutPaiement.REFUSE, StatutPaiement.ANNULE, StatutPaiement.EXPIRE)


@require_GET
@proche_requis
def retour(request, cle):
    """Back from the bank's window: what the bank said (asked to the provider, never read
    from the URL) and what « Confirmer » does. Once confirmed, the confirmation's page."""
    virement = services.actualiser_depuis_le_retour(_virement_du_proche(request, cle))
    if selectors.confirme_par_le_proche(virement):
        return redirect("pecule:virement", cle)
    return render(
        request,
        "pecule/retour.html",
        {
            "titre": "Retour de votre banque",
            "virement": virement,
            "EtatProche": EtatProche,
            "StatutPaiement": StatutPaiement,
        },
    )


@require_http_methods(["GET", "POST"])
@proche_requis
def confirmer(request, cle):
    """« Confirmer » (POST), then the confirmation's own address. Opened again (a bookmark,
    a new tab), it leads to the confirmation, or to the return page if not confirmed yet."""
    virement = _virement_du_proche(request, cle)
    if request.method == "GET":
        if selectors.confirme_par_le_proche(virement):
            return redirect("pecule:virement", cle)
        return redirect("pecule:retour", cle)
    try:
        services.confirmer_par_le_proche(virement=virement)
    except ErreurMetier as refus:
        messages.error(request, str(refus))
        return redirect("pecule:retour", cle)
    return redirect("pecule:virement", cle)


@require_GET
@proche_requis
def virement(request, cle):
    """The confirmation of a transfer, at its own address: it can be reopened at any time
    and shows the transfer's state as it is now."""
    virement = _virement_du_proche(request, cle)
    if virement.statut_paiement not in ECHECS and not selectors.confirme_par_le_proche(virement):
        return redirect("pecule:retour", cle)
    return render(
        request,
        "pecule/confirmation.html",
        {
            "titre": "Votre virement",
            "virement": virement,
            "EtatProche": EtatProche,
            "d422": virement.pk in selectors.virements_d422([virement], request.user),
            "url_avis": settings.PECULE_URL_JE_DONNE_MON_AVIS,
        },
    )


@require_GET
@proche_requis
def historique(request):
    depuis, fin = periode_des_six_derniers_mois()
    virements = list(
        virements_des_six_derniers_mois(request.user, fin=fin).select_related("ecriture")
    )
    return render(
        request,
        "pecule/historique.html",
        {
            "titre": "Historique des virements",
            "virements": virements,
            "depuis": depuis,
            "d422": selectors.virements_d422(virements, request.user),
        },
    )
