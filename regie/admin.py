"""The régisseurs' back-office in the Django admin.

- Every ModelAdmin shows only the establishments the user is attached to: each declares
  its `chemin_etablissement` (`regie.admin_perimetre.PerimetreMixin`); another
  establishment's object, or a missing one, is a 404. A superuser sees everything.
- Nothing is ever deleted, and the ledger is read-only: money is corrected by reversing
  entries, through `regie.services`.
- Movements of money and D.422 steps go through the table of `regie.admin_operations`,
  whose one view calls `regie.services`.
"""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from socle.admin import LectureSeuleMixin, montant_euros
from socle.erreurs import ErreurMetier

# The money-out pages and the régie's account: their ModelAdmins register when imported.
from . import (  # noqa: F401
    admin_compte_regie,
    admin_documents,
    admin_operations,
    admin_sorties,
    admin_views,
    selectors,
    services,
)
from .admin_perimetre import PerimetreMixin, filtrer_par_etablissement
from .emetteurs import libelle_emetteur
from .models import (
    Affectation,
    AlerteVigilance,
    AutorisationD422,
    CompteNominatif,
    Detenu,
    Ecriture,
    Etablissement,
    EvenementD422,
    LigneEcriture,
    PermissionSortie,
    PrescriptionJap,
    ReglesVigilance,
    RetenueEmetteur,
    Saisie,
    StatutAlerte,
    StatutPenal,
)


class EtablissementFilter(admin.RelatedOnlyFieldListFilter):
    """The establishments of the rows this user sees, titled in French (the field's own
    name lacks its accent)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "établissement"


def lien_compte(compte_id, libelle) -> str:
    return format_html('<a href="{}">{}</a>', admin_views.url_compte(compte_id), libelle)


# --- Establishments -------------------------------------------------------------------


@admin.register(Etablissement)
class EtablissementAdmin(PerimetreMixin, admin.ModelAdmin):
    chemin_etablissement = "pk"
    list_display = [
        "nom",
        "code",
        "plafond_virement",
        "plafond_mensuel_detenu",
        "plafond_mensuel_emetteur",
    ]
    search_fields = ["nom", "code"]

    plafond_virement = montant_euros("plafond_par_virement", "plafond par virement")
    plafond_mensuel_detenu = montant_euros(
        "plafond_mensuel_par_detenu", "plafond mensuel par personne détenue"
    )
    plafond_mensuel_emetteur = montant_euros(
        "plafond_mensuel_par_emetteur", "plafond mensuel par émetteur"
    )
    fieldsets = [
        (None, {"fields": ["code", "nom"]}),
        ("Compte de la régie", {"fields": ["regie_titulaire", "regie_iban"]}),
        (
            "Plafonds des virements des proches",
            {
                "fields": [
                    "plafond_par_virement",
                    "plafond_mensuel_par_detenu",
                    "plafond_mensuel_par_emetteur",
                ],
                "description": "Fixés par le chef d'établissement. Ils sont vérifiés à "
                "l'initiation du virement et de nouveau à son crédit.",
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        # The régie's account changes only under four eyes (ChangementCompteRegie).
        return ["code", "regie_titulaire", "regie_iban"] if obj is not None else []

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        nom, options = fieldsets[1]
        return [
            fieldsets[0],
            (
                nom,
                {
                    **options,
                    "description": format_html(
                        'Il ne change qu\'à quatre yeux : <a href="{}?etablissement={}">proposer '
                        "un changement</a>, qu'une autre personne approuvera.",
                        reverse("admin:regie_changementcompteregie_add"),
                        obj.pk,
                    ),
                },
            ),
            *fieldsets[2:],
        ]


# --- Detainees ------------------------------------------------------------------------

CHAMPS_IDENTITE = ["etablissement", "numero_ecrou", "nom", "prenoms", "date_naissance"]
CHAMPS_REPARTITION = [
    "statut_penal",
    "regime",
    "victimes_indemnisees_ou_absentes",
    "creance_alimentaire_executoire",
    "decision_jap_sans_parties_civiles",
    "prive_de_subsides_jusquau",
]


# Statuses of the écrou: set only by the account's operations (regie.services.situations).
CHAMPS_SITUATION = [
    "suspension",
    "suspension_depuis",
    "suspension_decision",
    "decede_le",
    "evade_le",
    "repris_le",
    "contrainte_judiciaire_depuis",
    "contrainte_judiciaire_montant",
]


@admin.register(Detenu)
class DetenuAdmin(PerimetreMixin, admin.ModelAdmin):
    chemin_etablissement = "etablissement"
    list_display = [
        "nom",
        "prenoms",
        "numero_ecrou",
        "etablissement",
        "statut_penal",
        "regime",
        "libere_le",
        "compte_nominatif",
    ]
    list_filter = [
        ("etablissement", admin.RelatedOnlyFieldListFilter),
        "statut_penal",
        "regime",
        ("libere_le", admin.EmptyFieldListFilter),
    ]
    list_select_related = ["etablissement", "compte"]
    search_fields = ["nom", "prenoms", "numero_ecrou"]

    def get_fieldsets(self, request, obj=None):
        identite = [*CHAMPS_IDENTITE] + (["libere_le"] if obj is not None else [])
        return [
            ("Identité et écrou", {"fields": identite}),
            (
                "Éléments de la répartition",
                {
                    "fields": CHAMPS_REPARTITION,
                    "description": "Ces éléments décident de la répartition des prochaines "
                    "recettes (D. 332-12, D. 424-1) et des virements autorisés.",
                },
            ),
        ] + (
            [
                (
                    "Situation de l'écrou",
                    {
                        "fields": [*CHAMPS_SITUATION, "journal_situation"],
                        "description": "Enregistrée par les opérations du compte nominatif "
                        "(suspension, décès, évasion, contrainte judiciaire), avec leur "
                        "auteur et leur date.",
                    },
                )
            ]
            if obj is not None
            else []
        )

    @admin.display(description="journal")
    def journal_situation(self, obj):
        evenements = obj.evenements_situation.select_related("auteur")
        if not evenements:
            return "–"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} – {} (effet le {}) {} – par {}</li>",
                (
                    (
                        f"{timezone.localtime(e.quand):%d/%m/%Y %H:%M}",
                        e.get_action_display(),
                        f"{e.date_effet:%d/%m/%Y}",
                        " – ".join(x for x in (e.reference, e.details) if x),
                        (e.auteur.get_full_name() or e.auteur.get_username())
                        if e.auteur
                        else "traitement automatique",
                    )
                    for e in evenements
                ),
            ),
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # The establishment and the écrou number change only through a transfer; the
        # release date only through the liquidation; the statuses through their services.
        return [*CHAMPS_IDENTITE, "libere_le", *CHAMPS_SITUATION, "journal_situation"]

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.libere_le is not None:
            return False
        return super().has_change_permission(request, obj)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        etablissements = selectors.etablissements_geres(request.user)
        if "etablissement" not in initial and etablissements.count() == 1:
            initial["etablissement"] = etablissements.get().pk
        return initial

    def save_model(self, request, obj, form, change):
        if change:
            champs = [champ for champ in form.changed_data if champ in CHAMPS_REPARTITION]
            if champs:
                obj.save(update_fields=champs)
            return
        # The écrou opens the compte nominatif: always through the service.
        identite = {
            champ: valeur for champ, valeur in form.cleaned_data.items() if champ != "etablissement"
        }
        detenu = services.ecrouer(
            etablissement=form.cleaned_data["etablissement"], auteur=request.user, **identite
        )
        obj.pk = detenu.pk
        obj._state.adding = False
        obj._state.db = detenu._state.db

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (ErreurMetier, ValidationError) as exc:
            message = exc.message if isinstance(exc, ErreurMetier) else "; ".join(exc.messages)
            self.message_user(request, message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def response_add(self, request, obj, post_url_continue=None):
        if "_addanother" in request.POST or "_continue" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(
            request,
            f"{obj.nom} {obj.prenoms} est écroué(e) ; son compte nominatif est ouvert.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(admin_views.url_compte(obj.compte.pk))

    @admin.display(description="compte nominatif")
    def compte_nominatif(self, obj):
        compte = getattr(obj, "compte", None)
        return lien_compte(compte.pk, "Voir le compte") if compte else "–"


# --- Accounts -------------------------------------------------------------------------


@admin.register(CompteNominatif)
class CompteNominatifAdmin(PerimetreMixin, LectureSeuleMixin, admin.ModelAdmin):
    chemin_etablissement = "detenu__etablissement"
    list_display = [
        "detenu",
        "etablissement",
        "solde_parties_civiles",
        "solde_pecule_liberation",
        "solde_part_disponible",
        "solde_bloque",
        "cloture_le",
    ]
    solde_parties_civiles = montant_euros(
        "parties_civiles", "parties civiles et créanciers d'aliments"
    )
    solde_pecule_liberation = montant_euros("pecule_liberation", "pécule de libération")
    solde_part_disponible = montant_euros("part_disponible", "part disponible")
    solde_bloque = montant_euros("part_disponible_bloquee", "dont sommes bloquées (D.422)")
    list_filter = [("detenu__etablissement", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["detenu__etablissement"]
    search_fields = ["detenu__nom", "detenu__prenoms", "detenu__numero_ecrou"]
    ordering = ["detenu__nom", "detenu__prenoms", "pk"]

    @admin.display(description="établissement", ordering="detenu__etablissement__nom")
    def etablissement(self, obj):
        return obj.detenu.etablissement.nom

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return admin_views.page_compte(self, request, object_id)

    def get_urls(self):
        def vue(fonction):
            def appel(request, *args, **kwargs):
                return fonction(self, request, *args, **kwargs)

            return self.admin_site.admin_view(appel)

        operations = [
            ("releve.csv", admin_views.export_releve, "releve"),
            *admin_operations.vues(admin_operations.OPERATIONS_COMPTE),
            *admin_documents.OPERATIONS_COMPTE,
        ]
        return [
            path(f"<int:object_id>/{route}", vue(fonction), name=f"regie_comptenominatif_{nom}")
            for route, fonction, nom in operations
        ] + super().get_urls()


# --- Ledger (read-only) ---------------------------------------------------------------


class LigneEcritureInline(LectureSeuleMixin, admin.TabularInline):
    model = LigneEcriture
    template = "admin/regie/inline_lecture.html"
    fields = ["partie", "contrepartie", "montant", "bloque_d422"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Ecriture)
class EcritureAdmin(PerimetreMixin, LectureSeuleMixin, admin.ModelAdmin):
    # The entries the régie booked, and the whole history of the accounts it now keeps.
    chemin_etablissement = ("etablissement", "compte__detenu__etablissement")
    list_display = [
        "numero",
        "date_operation",
        "nature",
        "compte_lie",
        "montant_affiche",
        "etablissement",
        "auteur_affiche",
    ]
    list_display_links = ["numero", "date_operation"]
    montant_affiche = montant_euros("montant", "montant")

    @admin.display(description="n°", ordering="pk")
    def numero(self, obj):
        return obj.pk

    list_filter = [
        "nature",
        ("etablissement", admin.RelatedOnlyFieldListFilter),
        "date_operation",
    ]
    list_select_related = ["compte__detenu", "etablissement", "auteur"]
    search_fields = [
        "compte__detenu__nom",
        "compte__detenu__numero_ecrou",
        "source",
        "piece",
        "motif",
    ]
    date_hierarchy = "date_operation"
    inlines = [LigneEcritureInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "compte_lie",
                    "etablissement",
                    "nature",
                    "montant",
                    "date_operation",
                    "cree_le",
                    "auteur_affiche",
                    "motif",
                    "piece",
                    "source",
                    "emetteur_affiche",
                ]
            },
        ),
        (
            "Répartition et liens",
            {
                "fields": [
                    "montant_soumis",
                    "mois_repartition",
                    "autorisation_d422",
                    "contrepasse",
                    "rembourse",
                ]
            },
        ),
    ]
    readonly_fields = ["compte_lie", "auteur_affiche", "emetteur_affiche"]

    @admin.display(description="compte nominatif")
    def compte_lie(self, obj):
        return lien_compte(obj.compte_id, obj.compte.detenu)

    @admin.display(description="auteur")
    def auteur_affiche(self, obj):
        return admin_views.nom_auteur(obj)

    @admin.display(description="émetteur")
    def emetteur_affiche(self, obj):
        return libelle_emetteur(obj.emetteur) or "–"


# --- D.422 ----------------------------------------------------------------------------


class EvenementD422Inline(LectureSeuleMixin, admin.TabularInline):
    model = EvenementD422
    template = "admin/regie/inline_lecture.html"
    fields = ["quand", "auteur_nom", "etape", "details"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "journal des étapes"

    @admin.display(description="auteur")
    def auteur_nom(self, obj):
        if obj.auteur is None:
            return "Traitement automatique"
        return obj.auteur.get_full_name() or obj.auteur.get_username()

    @admin.display(description="étape")
    def etape(self, obj):
        return obj.get_action_display()


@admin.register(AutorisationD422)
class AutorisationD422Admin(PerimetreMixin, admin.ModelAdmin):
    # Where the request is managed now, and the history of its detainees.
    chemin_etablissement = ("etablissement", "detenu__etablissement")
    list_display = [
        "numero",
        "detenu",
        "montant",
        "statut",
        "date_demande",
        "enregistree_par",
        "decidee_par",
        "etablissement_gestionnaire",
    ]
    list_display_links = ["numero", "detenu"]
    montant = montant_euros("montant_autorise", "montant demandé")
    readonly_fields = ["montant", "emetteur_portail", "etablissement_gestionnaire"]

    @admin.display(description="établissement", ordering="etablissement__nom")
    def etablissement_gestionnaire(self, obj):
        return obj.etablissement.nom

    @admin.display(description="n°", ordering="pk")
    def numero(self, obj):
        return obj.pk

    @admin.display(description="proche émetteur inscrit sur le portail")
    def emetteur_portail(self, obj):
        return libelle_emetteur(obj.emetteur_ref) or "Aucun"

    list_filter = ["statut", ("etablissement", EtablissementFilter)]
    list_select_related = ["detenu", "etablissement", "enregistree_par", "decidee_par"]
    search_fields = ["detenu__nom", "detenu__numero_ecrou", "objet", "emetteur_attendu"]
    inlines = [EvenementD422Inline]
    fieldsets = [
        (
            "Demande écrite",
            {
                "fields": [
                    "detenu",
                    "etablissement_gestionnaire",
                    "montant",
                    "objet",
                    "emetteur_attendu",
                    "emetteur_portail",
                    "reliquat",
                    "date_demande",
                    "enregistree_par",
                    "enregistree_le",
                ]
            },
        ),
        (
            "Décision du magistrat (personne prévenue)",
            {
                "fields": [
                    "magistrat_decision",
                    "magistrat_nom",
                    "magistrat_reference",
                    "magistrat_date",
                ]
            },
        ),
        (
            "Décision du chef d'établissement",
            {"fields": ["statut", "decidee_par", "decidee_le", "motif_decision"]},
        ),
    ]

    def has_change_permission(self, request, obj=None):
        # The request is changed only through its steps (services).
        return False

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and obj.detenu.statut_penal == StatutPenal.CONDAMNE:
            # The magistrate decides only for a prévenu: nothing to show for a condamné.
            fieldsets = [f for f in fieldsets if not f[0].startswith("Décision du magistrat")]
        return fieldsets

    def add_view(self, request, form_url="", extra_context=None):
        detenus = filtrer_par_etablissement(
            Detenu.objects.all(), request.user, DetenuAdmin.chemin_etablissement
        ).filter(libere_le__isnull=True)
        return admin_operations.demande_d422(self, request, detenus)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        contexte = dict(extra_context or {})
        autorisation = self.get_object(request, object_id)
        if self.has_view_permission(request, autorisation):
            contexte.update(admin_views.faits_d422(autorisation))
            contexte["actions_d422"] = admin_views.actions_d422(request, autorisation)
            contexte["title"] = f"Autorisation D.422 n° {autorisation.pk}"
        return super().change_view(request, object_id, form_url, contexte)

    def get_urls(self):
        def vue(fonction):
            def appel(request, *args, **kwargs):
                return fonction(self, request, *args, **kwargs)

            return self.admin_site.admin_view(appel)

        operations = [
            *admin_operations.vues(admin_operations.OPERATIONS_D422),
            *admin_documents.OPERATIONS_D422,
        ]
        return [
            path(f"<int:object_id>/{route}", vue(fonction), name=f"regie_autorisationd422_{nom}")
            for route, fonction, nom in operations
        ] + super().get_urls()


# --- Permissions de sortir (read-only; handled from the account page) -----------------


@admin.register(PermissionSortie)
class PermissionSortieAdmin(PerimetreMixin, LectureSeuleMixin, admin.ModelAdmin):
    chemin_etablissement = "compte__detenu__etablissement"
    list_display = [
        "date_sortie",
        "compte_lie",
        "montant_remis",
        "statut",
        "somme_rapportee",
        "fixee_par",
    ]
    montant_remis = montant_euros("montant_fixe", "somme fixée")
    somme_rapportee = montant_euros("montant_rapporte", "somme rapportée")
    list_filter = ["statut"]
    list_select_related = ["compte__detenu", "fixee_par"]
    search_fields = ["compte__detenu__nom", "compte__detenu__numero_ecrou"]
    ordering = ["-date_sortie", "-pk"]
    fields = [
        "compte_lie",
        "date_sortie",
        "montant_fixe",
        "fixee_par",
        "fixee_le",
        "statut",
        "ecriture_remise",
        "montant_rapporte",
        "ecriture_retour",
    ]
    readonly_fields = ["compte_lie"]

    @admin.display(description="compte nominatif")
    def compte_lie(self, obj):
        return lien_compte(obj.compte_id, obj.compte.detenu)


# --- Staff assignments (superusers only) ----------------------------------------------


@admin.register(Affectation)
class AffectationAdmin(PerimetreMixin, admin.ModelAdmin):
    chemin_etablissement = "etablissement"
    list_display = ["utilisateur", "etablissement_affecte"]
    list_filter = [("etablissement", EtablissementFilter)]
    list_select_related = ["utilisateur", "etablissement"]
    search_fields = ["utilisateur__username", "utilisateur__last_name", "etablissement__nom"]

    @admin.display(description="établissement", ordering="etablissement__nom")
    def etablissement_affecte(self, obj):
        return str(obj.etablissement)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        champ = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "etablissement":
            champ.label = "Établissement"
        return champ

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        # Removing someone from an establishment is how access is withdrawn; it moves
        # no money. Superusers only.
        return request.user.is_active and request.user.is_superuser


# --- Issue 12: JAP prescriptions, garnishments (read-only; handled from the account) ---


@admin.register(PrescriptionJap)
class PrescriptionJapAdmin(PerimetreMixin, LectureSeuleMixin, admin.ModelAdmin):
    chemin_etablissement = "detenu__etablissement"
    list_display = ["detenu", "type", "proportion", "plafond_mensuel", "debut", "fin", "reference"]
    list_select_related = ["detenu"]
    search_fields = ["detenu__nom", "detenu__numero_ecrou", "reference"]


@admin.register(Saisie)
class SaisieAdmin(PerimetreMixin, LectureSeuleMixin, admin.ModelAdmin):
    chemin_etablissement = "compte__detenu__etablissement"
    list_display = [
        "date_acte",
        "compte_lie",
        "creancier",
        "montant_cause",
        "montant_laisse",
        "paye",
        "statut",
    ]
    list_filter = ["statut"]
    list_select_related = ["compte__detenu"]
    search_fields = ["compte__detenu__nom", "creancier", "reference_acte"]
    readonly_fields = ["compte_lie", "paye", "operations_saisie"]

    @admin.display(description="compte nominatif")
    def compte_lie(self, obj):
        return lien_compte(obj.compte_id, obj.compte.detenu)

    @admin.display(description="payé")
    def paye(self, obj):
        return services.montant_paye_saisie(obj)

    @admin.display(description="opérations")
    def operations_saisie(self, obj):
        return format_html(
            '<a href="{}">Payer</a> – <a href="{}">Mainlevée</a>',
            reverse("admin:regie_comptenominatif_saisie_paiement", args=[obj.compte_id, obj.pk]),
            reverse("admin:regie_comptenominatif_saisie_mainlevee", args=[obj.compte_id, obj.pk]),
        )


# --- Vigilance (former D. 274, D. 339) --------------------------------------------------


@admin.register(ReglesVigilance)
class ReglesVigilanceAdmin(PerimetreMixin, admin.ModelAdmin):
    """The chef's rules per establishment; saved through `services.fixer_regles_vigilance`,
    which keeps who changed them and when."""

    chemin_etablissement = "etablissement"
    list_display = [
        "etablissement",
        "seuil_par_recette",
        "seuil_mensuel",
        "detenus_par_emetteur",
        "emetteurs_par_detenu",
        "periode_jours",
        "excedent_retour_permission",
        "modifiees_le",
    ]
    readonly_fields = ["modifiees_par", "modifiees_le"]

    def has_add_permission(self, request):
        return request.user.has_perm("regie.change_reglesvigilance")

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return ["etablissement", *self.readonly_fields]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        regles = {
            champ: valeur
            for champ, valeur in form.cleaned_data.items()
            if champ not in ("etablissement",)
        }
        resultat = services.fixer_regles_vigilance(
            etablissement=obj.etablissement, auteur=request.user, **regles
        )
        obj.pk = resultat.pk
        obj._state.adding = False


@admin.register(AlerteVigilance)
class AlerteVigilanceAdmin(PerimetreMixin, LectureSeuleMixin, admin.ModelAdmin):
    """The « à examiner » queue of the chef d'établissement."""

    chemin_etablissement = "etablissement"
    list_display = [
        "pk",
        "cree_le",
        "detenu",
        "regle",
        "montant",
        "emetteur",
        "statut",
        "decidee_par",
    ]
    list_display_links = ["pk", "cree_le"]
    list_filter = ["statut", "regle", ("etablissement", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["detenu", "decidee_par"]
    search_fields = ["detenu__nom", "detenu__numero_ecrou", "emetteur"]
    fields = [
        "etablissement",
        "detenu",
        "ecriture",
        "regle",
        "emetteur",
        "montant",
        "details",
        "cree_le",
        "statut",
        "decidee_par",
        "decidee_le",
        "motif_decision",
        "autorite",
        "date_signalement",
        "reference_signalement",
    ]

    def changelist_view(self, request, extra_context=None):
        # The queue opens on what is still to examine.
        if not request.GET and request.method == "GET":
            return HttpResponseRedirect(f"{request.path}?statut__exact={StatutAlerte.A_EXAMINER}")
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        contexte = dict(extra_context or {})
        alerte = self.get_object(request, object_id)
        contexte["peut_decider"] = alerte.statut == StatutAlerte.A_EXAMINER and (
            request.user.has_perm("regie.decider_vigilance")
        )
        return super().change_view(request, object_id, form_url, contexte)

    def get_urls(self):
        def vue(fonction):
            def appel(request, *args, **kwargs):
                return fonction(self, request, *args, **kwargs)

            return self.admin_site.admin_view(appel)

        operations = [
            *admin_operations.vues(admin_operations.OPERATIONS_VIGILANCE),
            *admin_documents.OPERATIONS_VIGILANCE,
        ]
        return [
            path(f"<int:object_id>/{route}", vue(fonction), name=f"regie_alertevigilance_{nom}")
            for route, fonction, nom in operations
        ] + super().get_urls()


@admin.register(RetenueEmetteur)
class RetenueEmetteurAdmin(PerimetreMixin, LectureSeuleMixin, admin.ModelAdmin):
    chemin_etablissement = "etablissement"
    list_display = ["emetteur", "detenu", "decidee_par", "decidee_le", "levee_le", "lever"]
    list_filter = [("levee_le", admin.EmptyFieldListFilter)]
    list_select_related = ["detenu", "decidee_par"]
    readonly_fields = ["lever"]

    @admin.display(description="levée")
    def lever(self, obj):
        if obj.levee_le is not None:
            return "–"
        return format_html(
            '<a href="{}">Lever la retenue</a>',
            reverse("admin:regie_retenueemetteur_levee", args=[obj.pk]),
        )

    def get_urls(self):
        def vue(fonction):
            def appel(request, *args, **kwargs):
                return fonction(self, request, *args, **kwargs)

            return self.admin_site.admin_view(appel)

        return [
            path(f"<int:object_id>/{route}", vue(fonction), name=f"regie_retenueemetteur_{nom}")
            for route, fonction, nom in admin_operations.vues(admin_operations.OPERATIONS_RETENUE)
        ] + super().get_urls()
