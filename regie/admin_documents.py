"""The back-office's PDF documents, mounted by `regie.admin` like the other operations
(views taken as `(model_admin, request, object_id)`):

- « Relevé de compte (PDF) »: a period form, then the relevé de compte nominatif of that
  period (permission `regie.exporter_releve`), as an attachment;
- the D.422 request form and decision form, printable (shown inline).

Each view finds its object through the ModelAdmin's scoped queryset: another
establishment's object, or a missing one, is a 404. The views only read.
"""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseNotAllowed
from django.template.response import TemplateResponse

from socle.admin import contexte_admin
from socle.dates import aujourdhui
from socle.pdf import reponse_pdf

from . import documents
from .admin_views import _compte_visible, url_compte
from .forms import champ_date
from .models import AlerteVigilance, AutorisationD422


def _debut_du_mois() -> datetime.date:
    return aujourdhui().replace(day=1)


class PeriodeReleveForm(forms.Form):
    debut = champ_date("Du", initial=_debut_du_mois)
    fin = champ_date("Au")

    def clean(self):
        donnees = super().clean()
        debut, fin = donnees.get("debut"), donnees.get("fin")
        if debut and fin and debut > fin:
            raise forms.ValidationError("La date de début est postérieure à la date de fin.")
        return donnees


def releve_compte_pdf(model_admin, request, object_id) -> HttpResponse:
    """The period form (GET without dates, or invalid ones), then the PDF (GET with
    `debut` and `fin`)."""
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    compte = _compte_visible(model_admin, request, object_id)
    if not request.user.has_perm("regie.exporter_releve"):
        raise PermissionDenied
    formulaire = PeriodeReleveForm(request.GET if {"debut", "fin"} & set(request.GET) else None)
    if formulaire.is_bound and formulaire.is_valid():
        debut, fin = formulaire.cleaned_data["debut"], formulaire.cleaned_data["fin"]
        detenu = compte.detenu
        return reponse_pdf(
            documents.releve_compte(compte, debut, fin),
            f"releve-compte-{detenu.numero_ecrou}-{detenu.nom}-{debut:%Y%m%d}-{fin:%Y%m%d}",
            telechargement=True,
        )
    return TemplateResponse(
        request,
        "documents/admin_periode.html",
        contexte_admin(
            model_admin,
            request,
            title="Relevé de compte (PDF)",
            subtitle=str(compte),
            original=compte,
            compte=compte,
            form=formulaire,
            url_retour=url_compte(compte.pk),
        ),
    )


def _autorisation_visible(model_admin, request, object_id) -> AutorisationD422:
    autorisation = model_admin.get_object(request, str(object_id))
    if not model_admin.has_view_permission(request, autorisation):
        raise PermissionDenied
    return autorisation


def formulaire_demande_pdf(model_admin, request, object_id) -> HttpResponse:
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    autorisation = _autorisation_visible(model_admin, request, object_id)
    return reponse_pdf(
        documents.formulaire_demande_d422(autorisation),
        f"d422-{autorisation.pk}-demande",
        telechargement=False,
    )


def formulaire_decision_pdf(model_admin, request, object_id) -> HttpResponse:
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    autorisation = _autorisation_visible(model_admin, request, object_id)
    return reponse_pdf(
        documents.formulaire_decision_d422(autorisation),
        f"d422-{autorisation.pk}-decision",
        telechargement=False,
    )


def avis_vigilance_pdf(model_admin, request, object_id) -> HttpResponse:
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    alerte: AlerteVigilance = model_admin.get_object(request, str(object_id))
    if not model_admin.has_view_permission(request, alerte):
        raise PermissionDenied
    return reponse_pdf(
        documents.avis_vigilance(alerte), f"vigilance-{alerte.pk}-avis", telechargement=False
    )


# Added to the `operations` of CompteNominatifAdmin.get_urls and of
# AutorisationD422Admin.get_urls: (route, view, URL name suffix), so the URL names are
# admin:regie_comptenominatif_releve_pdf, admin:regie_autorisationd422_formulaire_demande
# and admin:regie_autorisationd422_formulaire_decision.
OPERATIONS_COMPTE = [
    ("releve.pdf", releve_compte_pdf, "releve_pdf"),
]
OPERATIONS_D422 = [
    ("formulaire-demande.pdf", formulaire_demande_pdf, "formulaire_demande"),
    ("formulaire-decision.pdf", formulaire_decision_pdf, "formulaire_decision"),
]
OPERATIONS_VIGILANCE = [
    ("avis.pdf", avis_vigilance_pdf, "avis"),
]
