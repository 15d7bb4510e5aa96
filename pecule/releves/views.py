"""The relative's PDF statements: ask for one (POST), follow its preparation (a page,
and a small JSON status that static/portail/releve.js polls), download it.

Every view is for the logged-in relative only, and sees only their own statements:
anyone else's, or a missing one, is a 404. The file is read by Django and sent as an
attachment; it is never reachable by a media URL.
"""

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from comptes.decorators import proche_requis

from ..models import ReleveProche, StatutReleve
from . import services


class DemandeReleveForm(forms.Form):
    detenu = forms.TypedChoiceField(
        label="Virements à",
        required=False,
        coerce=int,
        empty_value=None,
        widget=forms.Select(attrs={"class": "fr-select"}),
        error_messages={"invalid_choice": "Choisissez une personne de la liste."},
    )

    def __init__(self, *args, proche, **kwargs):
        super().__init__(*args, **kwargs)
        self.detenus = {d.pk: d for d in services.detenus_du_proche(proche)}
        self.fields["detenu"].choices = [
            ("", "Toutes les personnes détenues"),
            *((pk, f"{d.prenoms} {d.nom}") for pk, d in self.detenus.items()),
        ]

    def detenu_choisi(self):
        return self.detenus.get(self.cleaned_data["detenu"])


def perimetre(releve: ReleveProche) -> str:
    if releve.detenu_id is None:
        return "Tous vos virements"
    return f"Vos virements à {releve.detenu.prenoms} {releve.detenu.nom}"


def taille(releve: ReleveProche) -> str:
    try:
        return filesizeformat(releve.fichier.size) if releve.fichier else ""
    except OSError:
        return ""


def etat_json(releve: ReleveProche) -> dict:
    """The status the page's script shows, in French."""
    etat = {
        "id": releve.pk,
        "statut": releve.statut,
        "libelle": releve.get_statut_display(),
        "perimetre": perimetre(releve),
    }
    if releve.statut == StatutReleve.PRET:
        etat.update(
            {
                "url": reverse("releves:telecharger", args=[releve.pk]),
                "taille": taille(releve),
                "expire_le": f"{releve.expire_le:%d/%m/%Y}",
                "message": "Votre relevé est prêt.",
            }
        )
    elif releve.statut == StatutReleve.ERREUR:
        etat["message"] = "La préparation du relevé a échoué. Demandez un nouveau relevé."
    else:
        etat["message"] = "Votre relevé est en préparation."
    return etat


def _releve_du_proche(request, pk) -> ReleveProche:
    return get_object_or_404(services.releves_du_proche(request.user), pk=pk)


@require_GET
@proche_requis
def index(request):
    releves = list(services.releves_du_proche(request.user)[:20])
    return render(
        request,
        "pecule/releves/index.html",
        {
            "titre": "Relevés PDF de vos virements",
            "formulaire": DemandeReleveForm(proche=request.user),
            "releves": [
                {"releve": r, "taille": taille(r), "perimetre": perimetre(r)} for r in releves
            ],
            "en_preparation": any(r.statut == StatutReleve.DEMANDE for r in releves),
            "retention_jours": services.retention().days,
        },
    )


@require_POST
@proche_requis
def demander(request):
    formulaire = DemandeReleveForm(request.POST, proche=request.user)
    if not formulaire.is_valid():
        messages.error(request, "Choisissez une personne de la liste, ou toutes.")
        return redirect("releves:index")
    try:
        releve = services.demander_releve(proche=request.user, detenu=formulaire.detenu_choisi())
    except services.ReleveImpossible as refus:
        messages.error(request, str(refus))
        return redirect("releves:index")
    # The rendering is queued after the commit: where tasks run in process (the local
    # run), it is already done, and the message says what the page shows.
    releve.refresh_from_db()
    if releve.statut == StatutReleve.PRET:
        messages.success(request, "Votre relevé est prêt : vous pouvez le télécharger.")
    elif releve.statut == StatutReleve.ERREUR:
        messages.error(request, "La préparation du relevé a échoué. Demandez un nouveau relevé.")
    else:
        messages.info(
            request,
            "Votre relevé est en préparation. Il apparaîtra ci-dessous dès qu'il sera prêt.",
        )
    return redirect(f"{reverse('releves:index')}#releve-{releve.pk}")


@require_GET
@proche_requis
def statut(request, pk):
    reponse = JsonResponse(etat_json(_releve_du_proche(request, pk)))
    reponse["Cache-Control"] = "no-store"
    return reponse


@require_GET
@proche_requis
def telecharger(request, pk):
    releve = _releve_du_proche(request, pk)
    if releve.statut != StatutReleve.PRET:
        raise Http404("Ce relevé n'est pas prêt.")
    try:
        fichier = releve.fichier.open("rb")
    except FileNotFoundError as exc:
        raise Http404("Ce relevé n'est plus disponible.") from exc
    reponse = FileResponse(
        fichier,
        as_attachment=True,
        filename=f"releve-virements-{timezone.localtime(releve.pret_le):%Y%m%d-%H%M}.pdf",
        content_type="application/pdf",
    )
    reponse["Cache-Control"] = "private, no-store"
    return reponse
