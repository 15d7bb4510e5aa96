"""Transfers in the back-office: the « à traiter » queue where the régisseur credits or
returns a held transfer, the inbox of notifications, the rejected ones, the outbox."""

from django import forms
from django.contrib import admin
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html

from regie.admin_operations import formulaire_operation
from regie.admin_perimetre import PerimetreMixin
from regie.forms import FormulaireRegie, MotifSeulMixin
from socle.admin import LectureSeuleMixin, montant_euros
from socle.formats import euros

from .. import selectors, services
from ..emetteurs import nom_du_proche
from ..models import (
    CourrielSortant,
    EvenementVirement,
    NotificationRecue,
    NotificationRejetee,
    StatutPaiement,
    StatutRegie,
    Virement,
)

CREDITER, RETOURNER = "crediter", "retourner"


class DecisionVirementForm(MotifSeulMixin, FormulaireRegie):
    """Credit or return a held transfer. When crediting would break a cap of the
    establishment (`depassement`, its message naming the cap), the régisseur's decision
    passes over it: a box says so and must be ticked."""

    decision = forms.ChoiceField(
        label="Décision",
        choices=[
            (CREDITER, "Créditer le compte nominatif"),
            (RETOURNER, "Retourner à l'émetteur"),
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

    def __init__(self, *args, depassement=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.depassement = depassement
        if depassement is not None:
            self.fields["au_dela_du_plafond"] = forms.BooleanField(
                label="Je confirme créditer ce virement au-delà du plafond",
                required=False,
                help_text=str(depassement),
            )
        self.order_fields(["decision", "au_dela_du_plafond", "motif"])

    def clean(self):
        donnees = super().clean()
        if (
            self.depassement is not None
            and donnees.get("decision") == CREDITER
            and not donnees.get("au_dela_du_plafond")
        ):
            self.add_error(
                "au_dela_du_plafond",
                "Créditer ce virement dépasse un plafond de l'établissement : cochez la case "
                "pour confirmer votre décision, ou retournez le virement à l'émetteur.",
            )
        return donnees


# The steps of a transfer (EvenementVirement), for people: who or what made them, and the
# states before and after by their labels.
ORIGINES = {
    "initiation": "Virement demandé par le proche",
    "retour": "Retour du proche depuis sa banque",
    "confirmation": "« Confirmer » par le proche",
    "notification": "Notification du prestataire",
    "interrogation": "Interrogation du prestataire",
    "credit": "Crédit du compte nominatif",
    "regisseur": "Décision du régisseur",
}
ETATS = {**dict(StatutPaiement.choices), **dict(StatutRegie.choices)}


class EvenementVirementInline(LectureSeuleMixin, admin.TabularInline):
    model = EvenementVirement
    template = "admin/regie/inline_lecture.html"
    extra = 0
    fields = ["date", "etape", "changement", "detail", "auteur_nom"]
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = "étapes du virement"

    @admin.display(description="date")
    def date(self, obj):
        return formats.date_format(timezone.localtime(obj.quand), "d/m/Y H:i")

    @admin.display(description="détails")
    def detail(self, obj):
        return obj.details or "—"

    @admin.display(description="étape")
    def etape(self, obj):
        return ORIGINES.get(obj.source, obj.source)

    @admin.display(description="changement d'état")
    def changement(self, obj):
        avant, apres = ETATS.get(obj.avant, obj.avant), ETATS.get(obj.apres, obj.apres)
        if obj.avant == obj.apres:
            return "—"
        return f"{avant} → {apres}" if avant else apres

    @admin.display(description="auteur")
    def auteur_nom(self, obj):
        return str(obj.auteur) if obj.auteur_id else "Traitement automatique"


class EtablissementFilter(admin.RelatedOnlyFieldListFilter):
    """The establishments of the transfers this user sees (their own), named in French."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "établissement"


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
        "montant_affiche",
        "emetteur",
        "personne_detenue",
        "statut_paiement",
        "statut_regie",
        "a_verifier_liste",
    ]
    list_filter = [
        ATraiterFilter,
        "statut_paiement",
        "statut_regie",
        ("etablissement", EtablissementFilter),
        "cree_le",
    ]
    search_fields = [
        "reference",
        "id_fournisseur",
        "detenu__nom",
        "detenu__numero_ecrou",
        "proche__fc_family_name",
    ]
    search_help_text = "Référence, nom ou écrou de la personne détenue, nom du proche."
    date_hierarchy = "cree_le"
    inlines = [EvenementVirementInline]
    readonly_fields = [
        "reference",
        "montant_affiche",
        "emetteur",
        "compte_emetteur",
        "personne_detenue",
        "etablissement_regie",
        "permis",
        "fournisseur",
        "id_fournisseur",
        "statut_paiement",
        "statut_brut",
        "motif",
        "statut_regie",
        "motif_a_traiter",
        "retour",
        "verification",
        "lien_ecriture",
        "cree_le",
        "execute_le",
        "prochaine_verification",
        "verifications",
        "action_decision",
    ]
    fields = readonly_fields
    list_select_related = ["detenu", "etablissement", "proche"]
    montant_affiche = montant_euros("montant", "montant")

    def has_change_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        virement = self.get_object(request, object_id)  # a 404 outside the user's scope
        contexte = {**(extra_context or {}), "title": f"Virement {virement.reference}"}
        return super().change_view(request, object_id, form_url, contexte)

    @admin.display(description="émetteur (proche)", ordering="proche__fc_family_name")
    def emetteur(self, obj):
        return nom_du_proche(obj.proche)

    @admin.display(description="personne détenue", ordering="detenu__nom")
    def personne_detenue(self, obj):
        return str(obj.detenu)

    @admin.display(description="établissement (régie qui reçoit le virement)")
    def etablissement_regie(self, obj):
        return obj.etablissement.nom

    @admin.display(description="à vérifier", ordering="a_verifier")
    def a_verifier_liste(self, obj):
        # Words where there is something to check, nothing elsewhere: not Django's red
        # cross on every transfer, which reads as an alarm.
        return "À vérifier" if obj.a_verifier else ""

    @admin.display(description="à vérifier")
    def verification(self, obj):
        return "Oui : succès annoncé par le prestataire après un échec" if obj.a_verifier else "Non"

    @admin.display(description="écriture")
    def lien_ecriture(self, obj):
        if obj.ecriture_id is None:
            return "—"
        return format_html(
            '<a href="{}">Écriture n° {}</a>',
            reverse("admin:regie_ecriture_change", args=[obj.ecriture_id]),
            obj.ecriture_id,
        )

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
        depassement = (
            selectors.plafond_depasse_au_credit(virement)
            if virement.statut_regie == StatutRegie.A_TRAITER or virement.retour_en_echec
            else None
        )

        def executer(form):
            donnees = form.cleaned_data
            if donnees["decision"] == CREDITER:
                motif = donnees["motif"]
                if depassement is not None:
                    motif = f"{motif} (au-delà du plafond : {depassement})"
                services.crediter_virement_a_traiter(
                    virement=virement, auteur=request.user, motif=motif
                )
                message = f"Virement {virement.reference} crédité sur le compte nominatif"
                if depassement is not None:
                    message += ", au-delà du plafond de l'établissement, par votre décision"
                return message + ".", url
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

        if virement.retour_en_echec:
            ordre = virement.ordre_retour
            raison = (
                f"Le retour de ce virement a échoué (ordre {ordre.reference}, "
                f"{ordre.get_statut_display().lower()}) : créditez-le ou retournez-le de "
                "nouveau, vers le bon compte."
            )
        else:
            raison = (
                f"Le crédit automatique l'a mis en attente. Raison : {virement.motif_a_traiter}"
            )
        introduction = (
            f"Virement de {euros(virement.montant)} envoyé par {nom_du_proche(virement.proche)} "
            f"à {virement.detenu}. {raison} Compte d'où vient l'argent : "
            f"{self.compte_emetteur(virement)}."
        )
        avertissement = (
            None
            if depassement is None
            else f"Créditer ce virement maintenant passe outre un plafond de l'établissement. "
            f"{depassement} Pour le créditer quand même, cochez la case de confirmation."
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
            form_kwargs={"depassement": depassement},
            introduction=introduction,
            contexte={"avertissement": avertissement},
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
