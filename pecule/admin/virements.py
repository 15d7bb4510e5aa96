"""Transfers in the back-office: the « à traiter » queue where the régisseur credits or
returns a held transfer, the inbox of notifications, the rejected ones, the outbox."""

from django import forms
from django.contrib import admin
from django.urls import path, reverse
from django.utils.html import format_html

from regie.admin_operations import formulaire_operation
from regie.admin_perimetre import PerimetreMixin
from regie.forms import FormulaireRegie, MotifSeulMixin
from socle.admin import LectureSeuleMixin

from .. import services
from ..models import (
    CourrielSortant,
    EvenementVirement,
    NotificationRecue,
    NotificationRejetee,
    Virement,
)


class DecisionVirementForm(MotifSeulMixin, FormulaireRegie):
    decision = forms.ChoiceField(
        label="Décision",
        choices=[
            ("crediter", "Créditer le compte nominatif"),
            ("retourner", "Retourner à l'émetteur"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez de créditer ou de retourner le virement."},
    )
    titulaire = forms.CharField(
        label="Retour : titulaire du compte de l'émetteur",
        max_length=70,
        required=False,
        help_text="Pour un retour seulement ; par défaut celui du relevé bancaire.",
    )
    iban = forms.CharField(
        label="Retour : IBAN de l'émetteur",
        max_length=42,
        required=False,
        help_text="Pour un retour seulement ; par défaut le compte d'où vient l'argent "
        "(relevé bancaire de la régie, ou prestataire).",
    )


class EvenementVirementInline(LectureSeuleMixin, admin.TabularInline):
    model = EvenementVirement
    extra = 0
    fields = ["quand", "source", "avant", "apres", "details", "auteur"]
    readonly_fields = fields
    can_delete = False


class ATraiterFilter(admin.SimpleListFilter):
    title = "file « à traiter »"
    parameter_name = "a_traiter"

    def lookups(self, request, model_admin):
        return [
            ("oui", "À traiter par le régisseur"),
            ("verifier", "Succès après échec (à vérifier)"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "oui":
            return queryset.a_traiter()
        if self.value() == "verifier":
            return queryset.filter(a_verifier=True)
        return queryset


@admin.register(Virement)
class VirementAdmin(PerimetreMixin, LectureSeuleMixin, admin.ModelAdmin):
    # Seen by the régie that receives it and by the detainee's current one (which credits
    # it after a transfer between prisons).
    chemin_etablissement = ("etablissement", "detenu__etablissement")
    list_display = [
        "reference",
        "cree_le",
        "montant",
        "detenu",
        "etablissement",
        "statut_paiement",
        "statut_regie",
        "a_verifier",
    ]
    list_filter = [
        ATraiterFilter,
        "statut_paiement",
        "statut_regie",
        # Only the establishments of the listed transfers: never another prison's name.
        ("etablissement", admin.RelatedOnlyFieldListFilter),
        "cree_le",
    ]
    search_fields = ["reference", "id_fournisseur", "detenu__nom", "detenu__numero_ecrou"]
    date_hierarchy = "cree_le"
    inlines = [EvenementVirementInline]
    readonly_fields = [
        "reference",
        "montant",
        "emetteur",
        "compte_emetteur",
        "detenu",
        "etablissement",
        "permis",
        "fournisseur",
        "id_fournisseur",
        "statut_paiement",
        "statut_brut",
        "motif",
        "statut_regie",
        "motif_a_traiter",
        "retour",
        "a_verifier",
        "lien_ecriture",
        "cree_le",
        "execute_le",
        "prochaine_verification",
        "verifications",
        "action_decision",
    ]
    fields = readonly_fields
    list_select_related = ["detenu", "etablissement"]

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="écriture")
    def lien_ecriture(self, obj):
        if obj.ecriture_id is None:
            return "—"
        return format_html(
            '<a href="{}">Écriture n° {}</a>',
            reverse("admin:regie_ecriture_change", args=[obj.ecriture_id]),
            obj.ecriture_id,
        )

    @admin.display(description="émetteur")
    def emetteur(self, obj):
        proche = obj.proche
        return f"{proche.fc_given_name} {proche.fc_family_name}".strip() or "—"

    @admin.display(description="compte d'où vient l'argent")
    def compte_emetteur(self, obj):
        origine = services.compte_d_origine(obj)
        if not origine.iban:
            return "inconnu (importez le relevé bancaire de la régie)"
        source = {"releve": "relevé bancaire de la régie", "prestataire": "prestataire"}
        return f"{origine.titulaire} – {origine.iban} ({source[origine.source]})"

    @admin.display(description="retour")
    def retour(self, obj):
        if obj.ordre_retour_id is None:
            return "—"
        ordre = obj.ordre_retour
        return format_html(
            '{} – <a href="{}">ordre {}</a> ({})',
            obj.motif_retour,
            reverse("admin:regie_ordrevirement_change", args=[ordre.pk]),
            ordre.reference,
            ordre.get_statut_display().lower(),
        )

    @admin.display(description="décision du régisseur")
    def action_decision(self, obj):
        if not obj.est_a_traiter:
            return "—"
        return format_html(
            '<a class="button" href="{}">Créditer ou retourner ce virement</a>',
            reverse("admin:pecule_virement_decision", args=[obj.pk]),
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/decision/",
                self.admin_site.admin_view(self.vue_decision),
                name="pecule_virement_decision",
            ),
            *super().get_urls(),
        ]

    def vue_decision(self, request, object_id):
        virement = self.get_object(request, object_id)
        url = reverse("admin:pecule_virement_change", args=[virement.pk])

        def executer(form):
            donnees = form.cleaned_data
            if donnees["decision"] == "crediter":
                services.crediter_virement_a_traiter(
                    virement=virement, auteur=request.user, motif=donnees["motif"]
                )
                return f"Virement {virement.reference} crédité sur le compte nominatif.", url
            services.retourner_virement(
                virement=virement,
                auteur=request.user,
                motif=donnees["motif"],
                iban=donnees["iban"],
                titulaire=donnees["titulaire"],
            )
            return (
                f"Virement {virement.reference} à retourner à l'émetteur : l'ordre de virement "
                "est préparé ; une seconde personne doit le valider.",
                url,
            )

        return formulaire_operation(
            request,
            model_admin=self,
            titre=f"Virement {virement.reference} à traiter",
            permission="regie.passer_ecriture",
            formulaire=DecisionVirementForm,
            executer=executer,
            url_retour=url,
            objet=virement,
            introduction=(
                f"Ce virement n'a pas pu être crédité automatiquement : {virement.motif_a_traiter}"
                if not virement.retour_en_echec
                else f"Le retour de ce virement a échoué (ordre {virement.ordre_retour.reference}, "
                f"{virement.ordre_retour.get_statut_display().lower()}) : créditez-le ou "
                "retournez-le de nouveau, vers le bon compte."
            )
            + f" Émetteur : {self.emetteur(virement)} ; {self.compte_emetteur(virement)}.",
        )


@admin.register(NotificationRecue)
class NotificationRecueAdmin(LectureSeuleMixin, admin.ModelAdmin):
    list_display = ["fournisseur", "id_evenement", "recue_le", "traitee_le", "tentatives"]
    list_filter = ["fournisseur", ("traitee_le", admin.EmptyFieldListFilter)]
    search_fields = ["id_evenement"]

    # Technical tables: the superusers' (support and operations), read-only.
    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(NotificationRejetee)
class NotificationRejeteeAdmin(NotificationRecueAdmin):
    list_display = ["fournisseur", "motif", "recue_le", "adresse_ip"]
    list_filter = ["fournisseur", "motif"]
    search_fields = ["extrait"]


@admin.register(CourrielSortant)
class CourrielSortantAdmin(NotificationRecueAdmin):
    list_display = ["sujet", "destinataire", "cree_le", "envoye_le", "tentatives"]
    list_filter = [("envoye_le", admin.EmptyFieldListFilter)]
    search_fields = ["cle", "destinataire"]
