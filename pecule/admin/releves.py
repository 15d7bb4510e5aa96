"""The relatives' statements in the back-office: a read-only list, and « Vérifier un code »
where staff type the verification code printed on a statement (and may add the PDF they
were given) to check that the portal issued it and what it contained.

A relative may pay detainees in several prisons, and one statement may list them all.
Staff see a statement when it concerns their establishments (its detainee, or one of its
transfers), and of it **only the lines of their establishments**, with the count and
total of those lines: never another prison's detainee, écrou or amount. The verification
page answers for any code whether the portal issued it (and whether a file is the one
issued); what the statement holds it shows only within the same limits.
"""

import datetime
import hashlib
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from regie import selectors
from regie.admin_perimetre import filtrer_par_etablissement
from socle.formats import euros

from ..models import EtatProche, ReleveProche, Virement
from ..releves import services
from .virements import VirementAdmin

TAILLE_MAX_PDF = 10 * 1024 * 1024


class VerificationForm(forms.Form):
    code = forms.CharField(
        label="Code de vérification",
        max_length=100,
        help_text="Les 16 caractères imprimés sur le relevé (les tirets et espaces sont ignorés).",
    )
    fichier = forms.FileField(
        label="Fichier PDF reçu (facultatif)",
        required=False,
        help_text="Pour vérifier que le fichier est exactement celui que le portail a émis.",
    )

    def clean_code(self):
        code = services.normaliser_code(self.cleaned_data["code"])
        if len(code) < 16:
            raise forms.ValidationError("Le code compte 16 caractères (chiffres et lettres A à F).")
        return code

    def clean_fichier(self):
        fichier = self.cleaned_data.get("fichier")
        if fichier and fichier.size > TAILLE_MAX_PDF:
            raise forms.ValidationError("Ce fichier est trop volumineux pour être un relevé.")
        return fichier


def texte_totaux(lignes: list[dict]) -> str:
    """What staff read of some of a statement's lines: their count and the two totals the
    statement prints (sent by the bank, credited), computed on those lines only."""
    totaux = services.totaux_des_lignes(lignes)
    return (
        f"{totaux['nombre']} virement(s) ; envoyé par la banque : {euros(totaux['envoye'])} ; "
        f"crédité sur le compte nominatif : {euros(totaux['credite'])}"
    )


def references_visibles(utilisateur, releves) -> dict[int, set[str] | None]:
    """For each statement, the references of its transfers that `utilisateur` may see:
    those the transfers' own admin shows them (the régie that received it, or the
    detainee's current one). None: every line (a superuser)."""
    if utilisateur.is_superuser:
        return {releve.pk: None for releve in releves}
    par_releve = {
        releve.pk: {ligne["reference"] for ligne in services.lignes_du_releve(releve, None)}
        for releve in releves
    }
    toutes = set().union(*par_releve.values()) if par_releve else set()
    permises = set(
        filtrer_par_etablissement(
            Virement.objects.filter(reference__in=toutes),
            utilisateur,
            VirementAdmin.chemin_etablissement,
        ).values_list("reference", flat=True)
    )
    return {pk: references & permises for pk, references in par_releve.items()}


def resultat_verification(
    releve: ReleveProche, empreinte: str | None, visibles: set, references: set[str] | None
) -> dict:
    lignes = services.lignes_du_releve(releve, references)
    return {
        "releve": releve,
        "totaux": texte_totaux(lignes),
        "visible": releve.pk in visibles,
        "donnees_integres": bool(releve.donnees)
        and services.code_verification(releve.donnees) == releve.code_verification,
        "fichier_identique": None if empreinte is None else empreinte == releve.empreinte_fichier,
        "tout": references is None,
    }


@admin.register(ReleveProche)
class ReleveProcheAdmin(admin.ModelAdmin):
    change_list_template = "pecule/releves/admin_change_list.html"
    list_display = [
        "numero",
        "proche_nom",
        "perimetre",
        "statut",
        "demande_le",
        "pret_le",
        "expire_le",
        "code",
        "nombre_virements_visibles",
        "total_envoye_visible",
    ]
    list_filter = ["statut"]
    list_select_related = ["proche", "detenu"]
    search_fields = ["proche__fc_family_name", "proche__fc_given_name"]
    search_help_text = "Nom du proche, ou code de vérification imprimé sur le relevé."
    ordering = ["-demande_le", "-pk"]
    fields = [
        "proche_nom",
        "perimetre",
        "debut",
        "fin",
        "statut",
        "demande_le",
        "pret_le",
        "expire_le",
        "code",
        "code_verification",
        "empreinte_fichier",
        "totaux_visibles",
        "liste_virements",
        "erreur",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        releves = super().get_queryset(request)
        if request.user.is_superuser:
            return releves
        # Its detainee is in one of the user's establishments, or one of its transfers is
        # (a statement lists the relative's transfers: to that detainee, or to all).
        virements = filtrer_par_etablissement(
            Virement.objects.filter(proche_id=OuterRef("proche_id")),
            request.user,
            VirementAdmin.chemin_etablissement,
        )
        return releves.filter(
            Q(detenu__etablissement__in=selectors.etablissements_geres(request.user))
            | Q(detenu__isnull=True) & Exists(virements)
            | Q(detenu__isnull=False) & Exists(virements.filter(detenu_id=OuterRef("detenu_id")))
        )

    def get_object(self, request, object_id, from_field=None):
        releve = super().get_object(request, object_id, from_field)
        if releve is not None:
            releve.references_visibles = references_visibles(request.user, [releve])[releve.pk]
        return releve

    def get_changelist_instance(self, request):
        liste = super().get_changelist_instance(request)
        visibles = references_visibles(request.user, liste.result_list)
        for releve in liste.result_list:
            releve.references_visibles = visibles[releve.pk]
        return liste

    def get_search_results(self, request, queryset, search_term):
        code = services.normaliser_code(search_term)
        if len(code) >= 16 and set(search_term.strip().lower()) <= set("0123456789abcdef- "):
            return queryset.filter(code_verification__startswith=code), False
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="n°", ordering="pk")
    def numero(self, obj):
        return obj.pk

    @admin.display(description="proche", ordering="proche__fc_family_name")
    def proche_nom(self, obj):
        return f"{obj.proche.fc_given_name} {obj.proche.fc_family_name}".strip() or str(obj.proche)

    @admin.display(description="virements à")
    def perimetre(self, obj):
        if obj.detenu_id is None:
            return "Toutes les personnes détenues"
        return str(obj.detenu)

    @admin.display(description="code imprimé")
    def code(self, obj):
        return obj.code_court or "–"

    @staticmethod
    def _lignes(obj) -> list[dict]:
        # Set by get_object / get_changelist_instance; nothing is shown without it.
        return services.lignes_du_releve(obj, getattr(obj, "references_visibles", set()))

    @admin.display(description="virements")
    def nombre_virements_visibles(self, obj):
        if obj.nombre_virements is None:
            return "–"
        return services.totaux_des_lignes(self._lignes(obj))["nombre"]

    @admin.display(description="envoyé par la banque")
    def total_envoye_visible(self, obj):
        if obj.total is None:
            return "–"
        return euros(services.totaux_des_lignes(self._lignes(obj))["envoye"])

    @admin.display(description="totaux")
    def totaux_visibles(self, obj):
        if not obj.donnees:
            return "–"
        return texte_totaux(self._lignes(obj))

    @admin.display(description="virements du relevé")
    def liste_virements(self, obj):
        if not obj.donnees:
            return "–"
        note = ""
        if getattr(obj, "references_visibles", set()) is not None:
            note = format_html(
                '<p class="help">{}</p>',
                "Seuls les virements vers vos établissements sont affichés.",
            )
        return format_html(
            "{}<table><thead><tr><th>Date</th><th>Référence</th><th>Personne détenue</th>"
            "<th>Montant</th><th>État</th></tr></thead><tbody>{}</tbody></table>",
            note,
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{} {} (écrou {})</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        f"{datetime.datetime.fromisoformat(ligne['date']):%d/%m/%Y %H:%M}",
                        ligne["reference"],
                        ligne["detenu"]["prenoms"],
                        ligne["detenu"]["nom"],
                        ligne["detenu"]["numero_ecrou"],
                        euros(Decimal(ligne["montant"])),
                        EtatProche(ligne["etat"]).label,
                    )
                    for ligne in self._lignes(obj)
                ),
            ),
        )

    def get_urls(self):
        return [
            path(
                "verifier/",
                self.admin_site.admin_view(self.verifier),
                name="pecule_releveproche_verifier",
            ),
            *super().get_urls(),
        ]

    def verifier(self, request):
        """« Vérifier un code »: every statement whose code starts with the one typed."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        formulaire = VerificationForm(request.POST or None, request.FILES or None)
        resultats = None
        if request.method == "POST" and formulaire.is_valid():
            empreinte = None
            if formulaire.cleaned_data["fichier"]:
                sha = hashlib.sha256()
                for morceau in formulaire.cleaned_data["fichier"].chunks():
                    sha.update(morceau)
                empreinte = sha.hexdigest()
            releves = list(services.releves_du_code(formulaire.cleaned_data["code"]))
            visibles = set(
                self.get_queryset(request)
                .filter(pk__in=[r.pk for r in releves])
                .values_list("pk", flat=True)
            )
            references = references_visibles(request.user, releves)
            resultats = [
                resultat_verification(r, empreinte, visibles, references[r.pk]) for r in releves
            ]
        return TemplateResponse(
            request,
            "pecule/releves/admin_verifier.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": "Vérifier le code d'un relevé",
                "formulaire": formulaire,
                "resultats": resultats,
                "retention_jours": services.retention().days,
                "url_liste": reverse("admin:pecule_releveproche_changelist"),
            },
        )
