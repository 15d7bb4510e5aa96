"""The staff's back-office for visit permits.

- Every ModelAdmin shows only the establishments the user is attached to
  (`regie.selectors.etablissements_geres`); another establishment's object, or a missing
  one, is a 404. Nothing is deleted.
- Permits are created and changed through `permis.services` (the form validates, the
  service writes and logs); CSV import through `permis.resources`, whole file or nothing.
- Registrations and attempts are read-only; tokens of the information systems are for
  superusers, and a new token is shown once.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from import_export.admin import ImportMixin
from import_export.forms import ConfirmImportForm, ImportForm

from regie.admin_perimetre import PerimetreMixin
from regie.models import Detenu, Etablissement
from regie.selectors import etablissements_geres
from socle.admin import LectureSeuleMixin
from socle.dates import aujourdhui
from socle.erreurs import ErreurMetier

from . import services
from .exceptions import PermisError
from .models import (
    EvenementPermis,
    JetonSystemeInformation,
    PermisDeVisite,
    PermisEnregistre,
    SignalementTransfert,
    TentativeEnregistrement,
)
from .resources import (
    COLONNES_FACULTATIVES,
    COLONNES_OBLIGATOIRES,
    LIGNES_MAX,
    CSVPointVirgule,
    PermisDeVisiteResource,
)

# A permit's line is under 200 bytes: a file of LIGNES_MAX lines fits well under this.
TAILLE_MAX_FICHIER = 2 * 1024 * 1024


class PerimetrePermisMixin(PerimetreMixin):
    """The régie's scoping (each ModelAdmin declares its `chemin_etablissement`); a permit
    is only issued for a detainee still held."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Detenu:
            kwargs.setdefault(
                "queryset",
                Detenu.objects.filter(
                    etablissement__in=etablissements_geres(request.user), libere_le__isnull=True
                ),
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def _message_erreur(exc) -> str:
    if isinstance(exc, ValidationError):
        return " ; ".join(exc.messages)
    return exc.message


# --- CSV import forms: the establishment is chosen among the user's -----------------------


class FormulaireImportPermis(ImportForm):
    etablissement = forms.ModelChoiceField(
        label="Établissement",
        queryset=Etablissement.objects.none(),
        help_text="Les permis du fichier sont ceux de cet établissement.",
    )
    field_order = ["resource", "etablissement", "import_file", "format"]

    def __init__(self, formats, resources, *, etablissements, **kwargs):
        super().__init__(formats, resources, **kwargs)
        self.fields["etablissement"].queryset = etablissements
        self.fields["import_file"].label = "Fichier CSV"
        self.fields[
            "import_file"
        ].help_text = f"Au plus {LIGNES_MAX:,} permis (2 Mo) par fichier.".replace(",", "\u202f")
        if len(etablissements) == 1:
            self.fields["etablissement"].initial = etablissements[0].pk

    def clean_import_file(self):
        """Refuse, before anything reads it, a file too large to be imported within a
        request: more than 2 Mo, or more than LIGNES_MAX permits."""
        fichier = self.cleaned_data["import_file"]
        decoupez = "Découpez-le et importez chaque partie l'une après l'autre."
        if fichier.size > TAILLE_MAX_FICHIER:
            poids = f"{fichier.size / 1024 / 1024:.1f}".replace(".", ",")
            raise ValidationError(
                f"Ce fichier pèse {poids} Mo : un import de permis en accepte au plus 2 Mo. "
                f"{decoupez}"
            )
        lignes = sum(morceau.count(b"\n") for morceau in fichier.chunks())
        fichier.seek(0)
        if lignes - 1 > LIGNES_MAX:
            raise ValidationError(
                f"Ce fichier compte {lignes - 1} lignes de permis : un import en accepte au "
                f"plus {LIGNES_MAX}. {decoupez}"
            )
        return fichier


class FormulaireConfirmationImportPermis(ConfirmImportForm):
    etablissement = forms.ModelChoiceField(
        queryset=Etablissement.objects.none(), widget=forms.HiddenInput
    )

    def __init__(self, *args, etablissements, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["etablissement"].queryset = etablissements


# --- Permits ------------------------------------------------------------------------------


class EvenementPermisInline(LectureSeuleMixin, admin.TabularInline):
    model = EvenementPermis
    fields = ["quand", "action", "par", "details"]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = "historique"

    @admin.display(description="par")
    def par(self, obj):
        return obj.auteur_affiche


class PermisEnregistreInline(LectureSeuleMixin, admin.TabularInline):
    model = PermisEnregistre
    fields = ["proche_identite", "enregistre_le"]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = "enregistré par les proches"

    @admin.display(description="proche")
    def proche_identite(self, obj):
        return identite_proche(obj.proche)


def identite_proche(proche) -> str:
    nom = f"{proche.fc_given_name} {proche.fc_family_name}".strip()
    naissance = f", né(e) le {proche.fc_birthdate:%d/%m/%Y}" if proche.fc_birthdate else ""
    return f"{nom or proche.get_username()}{naissance}"


CHAMPS_CREATION = [
    "etablissement",
    "numero",
    "detenu",
    "titulaire_nom",
    "titulaire_prenoms",
    "titulaire_date_naissance",
    "lien",
    "date_debut",
    "date_fin",
    "statut",
    "motif_statut",
]


@admin.register(PermisDeVisite)
class PermisDeVisiteAdmin(PerimetrePermisMixin, ImportMixin, admin.ModelAdmin):
    chemin_etablissement = "etablissement"
    list_display = [
        "numero",
        "detenu",
        "titulaire",
        "etablissement",
        "date_debut",
        "date_fin",
        "statut",
        "etat_aujourdhui",
    ]
    list_filter = ["statut", ("etablissement", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["detenu", "etablissement"]
    search_fields = [
        "numero",
        "titulaire_nom",
        "titulaire_prenoms",
        "detenu__nom",
        "detenu__numero_ecrou",
    ]
    autocomplete_fields = ["detenu"]
    inlines = [PermisEnregistreInline, EvenementPermisInline]
    actions = ["suspendre", "retirer", "reactiver"]
    fieldsets = [
        (None, {"fields": ["etablissement", "numero", "detenu"]}),
        (
            "Titulaire",
            {
                "fields": [
                    "titulaire_nom",
                    "titulaire_prenoms",
                    "titulaire_date_naissance",
                    "lien",
                ],
                "description": "Le titulaire doit pouvoir être reconnu à son identité "
                "FranceConnect : nom de naissance, prénoms de l'état civil (tous, ou le "
                "premier), date de naissance.",
            },
        ),
        ("Validité", {"fields": ["date_debut", "date_fin", "statut", "motif_statut"]}),
    ]

    # Import
    resource_classes = [PermisDeVisiteResource]
    import_formats = [CSVPointVirgule]
    import_form_class = FormulaireImportPermis
    confirm_form_class = FormulaireConfirmationImportPermis
    import_template_name = "admin/permis/permisdevisite/import.html"
    import_error_display = ("message", "row")

    @admin.display(description="titulaire")
    def titulaire(self, obj):
        return f"{obj.titulaire_nom} {obj.titulaire_prenoms}"

    @admin.display(description="aujourd'hui")
    def etat_aujourdhui(self, obj):
        return obj.etat(aujourdhui()).label

    def get_readonly_fields(self, request, obj=None):
        # A permit stays the one issued by that establishment for that detainee.
        return ["etablissement", "numero", "detenu"] if obj is not None else []

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        etablissements = list(etablissements_geres(request.user)[:2])
        if "etablissement" not in initial and len(etablissements) == 1:
            initial["etablissement"] = etablissements[0].pk
        return initial

    def save_model(self, request, obj, form, change):
        if change:
            champs = {
                champ: form.cleaned_data[champ]
                for champ in form.changed_data
                if champ in services.CHAMPS_MODIFIABLES
            }
            if champs:
                services.modifier_permis(permis=obj, auteur=request.user, **champs)
            return
        donnees = {
            champ: form.cleaned_data[champ]
            for champ in CHAMPS_CREATION
            if champ in form.cleaned_data
        }
        permis = services.creer_permis(auteur=request.user, **donnees)
        obj.pk = permis.pk
        obj._state.adding = False
        obj._state.db = permis._state.db

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (PermisError, ErreurMetier, ValidationError) as exc:
            self.message_user(request, _message_erreur(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def _appliquer(self, request, queryset, fonction, reussite: str):
        faits, refus = 0, []
        for permis in queryset:
            try:
                fonction(permis=permis, auteur=request.user)
                faits += 1
            except (PermisError, ErreurMetier, ValidationError) as exc:
                refus.append(f"{permis.numero} : {_message_erreur(exc)}")
        if faits:
            self.message_user(request, f"{faits} {reussite}.", messages.SUCCESS)
        for message in refus:
            self.message_user(request, message, messages.ERROR)

    @admin.action(description="Suspendre les permis sélectionnés", permissions=["change"])
    def suspendre(self, request, queryset):
        self._appliquer(request, queryset, services.suspendre_permis, "permis suspendu(s)")

    @admin.action(description="Retirer les permis sélectionnés", permissions=["change"])
    def retirer(self, request, queryset):
        self._appliquer(request, queryset, services.retirer_permis, "permis retiré(s)")

    @admin.action(description="Réactiver les permis sélectionnés", permissions=["change"])
    def reactiver(self, request, queryset):
        self._appliquer(request, queryset, services.reactiver_permis, "permis réactivé(s)")

    # --- CSV import: the user's establishments, one transaction, nothing on error -----

    def has_import_permission(self, request):
        return request.user.has_perm("permis.add_permisdevisite") and request.user.has_perm(
            "permis.change_permisdevisite"
        )

    def get_import_form_kwargs(self, request):
        kwargs = super().get_import_form_kwargs(request)
        kwargs["etablissements"] = etablissements_geres(request.user)
        return kwargs

    def get_confirm_form_kwargs(self, request, import_form=None):
        kwargs = super().get_confirm_form_kwargs(request, import_form)
        kwargs["etablissements"] = etablissements_geres(request.user)
        return kwargs

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["etablissement"] = import_form.cleaned_data["etablissement"].pk
        return initial

    def get_import_resource_kwargs(self, request, **kwargs):
        form = kwargs.get("form")
        donnees = getattr(form, "cleaned_data", None) or {}
        return {"etablissement": donnees.get("etablissement"), "auteur": request.user}

    def get_import_data_kwargs(self, **kwargs):
        kwargs = super().get_import_data_kwargs(**kwargs)
        kwargs.pop("request", None)
        # One transaction for the whole file, rolled back on any error, including the
        # validation errors that import-export would otherwise only skip.
        kwargs["use_transactions"] = True
        kwargs["rollback_on_validation_errors"] = True
        return kwargs

    def get_import_context_data(self, **kwargs):
        context = super().get_import_context_data(**kwargs)
        context["colonnes_obligatoires"] = COLONNES_OBLIGATOIRES
        context["colonnes_facultatives"] = COLONNES_FACULTATIVES
        return context

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            lignes = [
                f"ligne {ligne.number + 1} : " + " ; ".join(_messages_ligne(ligne.error))
                for ligne in result.invalid_rows
            ]
            lignes += [
                f"ligne {ligne.number + 1} : " + " ; ".join(str(e.error) for e in ligne.errors)
                for ligne in result.error_rows
            ]
            lignes += [str(erreur.error) for erreur in result.base_errors]
            self.message_user(
                request,
                "Aucun permis n'a été importé : le fichier contient des erreurs ("
                + " | ".join(lignes or ["erreur générale"])
                + ").",
                messages.ERROR,
            )
            return HttpResponseRedirect(
                reverse("admin:permis_permisdevisite_import", current_app=self.admin_site.name)
            )
        return super().process_result(result, request)

    def add_success_message(self, result, request):
        totaux = result.totals
        self.message_user(
            request,
            f"Import terminé : {totaux['new']} permis créé(s), {totaux['update']} mis à jour, "
            f"{totaux['skip']} inchangé(s).",
            messages.SUCCESS,
        )


def _messages_ligne(erreur: ValidationError) -> list[str]:
    if hasattr(erreur, "error_dict"):
        return [
            f"{champ} : {' '.join(messages_champ)}"
            for champ, messages_champ in erreur.message_dict.items()
        ]
    return erreur.messages


# --- Registrations and attempts (read-only) ---------------------------------------------


@admin.register(PermisEnregistre)
class PermisEnregistreAdmin(PerimetrePermisMixin, LectureSeuleMixin, admin.ModelAdmin):
    chemin_etablissement = "permis__etablissement"
    list_display = ["permis", "detenu", "proche_identite", "enregistre_le", "etat_aujourdhui"]
    list_select_related = ["permis__detenu", "permis__etablissement", "proche"]
    list_filter = [("permis__etablissement", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["permis__numero", "permis__detenu__nom", "proche__fc_family_name"]
    fields = ["permis", "proche_identite", "enregistre_le"]
    readonly_fields = fields

    @admin.display(description="proche")
    def proche_identite(self, obj):
        return identite_proche(obj.proche)

    @admin.display(description="personne détenue")
    def detenu(self, obj):
        return obj.permis.detenu

    @admin.display(description="aujourd'hui")
    def etat_aujourdhui(self, obj):
        return obj.permis.etat(aujourdhui()).label


@admin.register(TentativeEnregistrement)
class TentativeEnregistrementAdmin(PerimetrePermisMixin, LectureSeuleMixin, admin.ModelAdmin):
    chemin_etablissement = "etablissement"
    list_display = [
        "quand",
        "proche",
        "adresse_ip",
        "succes",
        "motif",
        "numero_saisi",
        "etablissement",
    ]
    list_filter = ["succes", "motif"]
    list_select_related = ["proche", "etablissement"]
    search_fields = ["adresse_ip", "numero_saisi", "proche__fc_family_name"]
    date_hierarchy = "quand"


@admin.register(SignalementTransfert)
class SignalementTransfertAdmin(PerimetrePermisMixin, LectureSeuleMixin, admin.ModelAdmin):
    chemin_etablissement = ("etablissement_origine", "etablissement_destination")
    list_display = [
        "detenu",
        "etablissement_origine",
        "etablissement_destination",
        "nouveau_numero_ecrou",
        "dernier_signalement",
        "effectue",
    ]
    list_select_related = ["detenu", "etablissement_origine", "etablissement_destination"]
    readonly_fields = [
        "detenu",
        "etablissement_origine",
        "etablissement_destination",
        "nouveau_numero_ecrou",
        "donnees",
        "signale_le",
        "dernier_signalement",
        "effectue",
    ]
    exclude = ["jeton"]

    @admin.display(description="transfert effectué", boolean=True)
    def effectue(self, obj):
        return obj.effectue


# --- Tokens of the information systems (superusers) ---------------------------------------


class FormulaireJeton(forms.ModelForm):
    class Meta:
        model = JetonSystemeInformation
        fields = ["etablissement", "nom"]


@admin.register(JetonSystemeInformation)
class JetonSystemeInformationAdmin(admin.ModelAdmin):
    form = FormulaireJeton
    list_display = ["nom", "etablissement", "prefixe", "cree_le", "dernier_usage", "revoque_le"]
    list_filter = [("revoque_le", admin.EmptyFieldListFilter), "etablissement"]
    list_select_related = ["etablissement"]
    actions = ["revoquer"]

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["etablissement", "nom"]
        return [
            "etablissement",
            "nom",
            "prefixe",
            "cree_le",
            "cree_par",
            "dernier_usage",
            "revoque_le",
        ]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj) if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            return
        jeton, clair = services.creer_jeton(
            etablissement=form.cleaned_data["etablissement"],
            nom=form.cleaned_data["nom"],
            auteur=request.user,
        )
        obj.pk = jeton.pk
        obj.cle_hash, obj.prefixe, obj.cree_le = jeton.cle_hash, jeton.prefixe, jeton.cree_le
        obj._state.adding = False
        obj._state.db = jeton._state.db
        request._jeton_clair = clair

    def response_add(self, request, obj, post_url_continue=None):
        clair = getattr(request, "_jeton_clair", None)
        if clair is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "title": "Jeton créé",
            "opts": self.opts,
            "jeton": obj,
            "jeton_clair": clair,
        }
        reponse = TemplateResponse(
            request, "admin/permis/jetonsystemeinformation/jeton_cree.html", context
        )
        reponse["Cache-Control"] = "no-store"
        return reponse

    @admin.action(description="Révoquer les jetons sélectionnés")
    def revoquer(self, request, queryset):
        for jeton in queryset:
            services.revoquer_jeton(jeton=jeton, auteur=request.user)
        self.message_user(request, f"{queryset.count()} jeton(s) révoqué(s).", messages.SUCCESS)
