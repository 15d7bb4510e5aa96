"""The régie's bank statements in the back-office.

- « Relevés bancaires de la régie »: the statements of the user's establishments only
  (another establishment's statement, or a missing one, is a 404), each with a read-only
  page listing its lines and their matching state;
- « Importer un relevé camt.053 »: the upload form (permission `pecule.importer_releve`,
  the Régisseur role), which calls `services.importer_releve`;
- « Importer un compte rendu pain.002 »: the bank's status report on a batch of the
  régie's outgoing transfers (`services.importer_rapport_pain002`);
- « Rapprochement »: per establishment, the three lists of 03-paiements.md and their
  debit side (05-sorties-de-fonds.md): unmatched lines (credits with a portal reference,
  debits without an order), amount mismatches, executed transfers with no bank line and
  orders transmitted with no bank line.
Nothing here is ever added, changed or deleted by hand: only the import writes.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html

from regie.admin_perimetre import PerimetreMixin
from regie.selectors import etablissements_geres
from socle.admin import LectureSeuleMixin, contexte_admin
from socle.erreurs import ErreurMetier
from socle.formats import euros

from ..models import LigneReleve, RapportPain002, ReleveBancaire, StatutRapprochement
from ..rapprochement import services
from ..rapprochement.forms import ImportRapportForm, ImportReleveForm

PERMISSION_IMPORT = services.PERMISSION_IMPORT
PERMISSION_VOIR = "pecule.view_relevebancaire"


def url_virement(virement_id: int | None) -> str | None:
    if virement_id is None:
        return None
    try:
        return reverse("admin:pecule_virement_change", args=[virement_id])
    except NoReverseMatch:  # the transfers' admin is not mounted
        return None


def url_ordre(ordre_id: int | None) -> str | None:
    if ordre_id is None:
        return None
    return reverse("admin:regie_ordrevirement_change", args=[ordre_id])


def url_releve(releve_id: int) -> str:
    return reverse("admin:pecule_relevebancaire_change", args=[releve_id])


def url_rapprochement(etablissement_id: int) -> str:
    return reverse("admin:pecule_relevebancaire_rapprochement", args=[etablissement_id])


def _ligne(ligne: LigneReleve) -> dict:
    """One row of a table of lines, with the links the page offers."""
    return {
        "ligne": ligne,
        "numero": f"{ligne.position}.{ligne.sous_position}"
        if ligne.sous_position
        else str(ligne.position),
        "montant": euros(ligne.montant),
        "url_virement": url_virement(ligne.virement_id),
        "url_ordre": url_ordre(ligne.ordre_id),
        "url_releve": url_releve(ligne.releve_id),
        "url_doublon": url_releve(ligne.doublon_de.releve_id) if ligne.doublon_de_id else None,
    }


class ReleveBancaireAdmin(PerimetreMixin, LectureSeuleMixin, admin.ModelAdmin):
    chemin_etablissement = "etablissement"
    change_list_template = "admin/pecule/rapprochement/change_list.html"
    list_display = [
        "releve",
        "etablissement",
        "solde_ouverture_affiche",
        "solde_cloture_affiche",
        "nombre_lignes",
        "importe_le",
        "importe_par",
    ]
    list_display_links = ["releve"]
    list_filter = [("etablissement", admin.RelatedOnlyFieldListFilter), "date_fin"]
    list_select_related = ["etablissement", "importe_par"]
    search_fields = ["identifiant", "identifiant_message", "nom_fichier"]
    date_hierarchy = "date_fin"

    @admin.display(description="relevé", ordering="date_fin")
    def releve(self, obj):
        return str(obj)

    @admin.display(description="solde d'ouverture", ordering="solde_ouverture")
    def solde_ouverture_affiche(self, obj):
        return euros(obj.solde_ouverture)

    @admin.display(description="solde de clôture", ordering="solde_cloture")
    def solde_cloture_affiche(self, obj):
        return euros(obj.solde_cloture)

    @admin.display(description="lignes", ordering="nombre_de_lignes")
    def nombre_lignes(self, obj):
        return obj.nombre_de_lignes

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(nombre_de_lignes=Count("lignes"))

    def changelist_view(self, request, extra_context=None):
        contexte = dict(extra_context or {})
        contexte["peut_importer"] = request.user.has_perm(PERMISSION_IMPORT)
        return super().changelist_view(request, contexte)

    # --- The statement's page ------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        releve = self.get_object(request, object_id)  # 404 outside the user's scope
        if not self.has_view_permission(request, releve):
            raise PermissionDenied
        lignes = releve.lignes.select_related("virement", "doublon_de").order_by(
            "position", "sous_position"
        )
        resume = services.resume_releve(releve)
        return TemplateResponse(
            request,
            "admin/pecule/rapprochement/releve.html",
            contexte_admin(
                self,
                request,
                title=str(releve),
                releve=releve,
                lignes=[_ligne(ligne) for ligne in lignes],
                resume=[
                    (libelle, resume[statut]) for statut, libelle in StatutRapprochement.choices
                ],
                soldes={
                    "ouverture": euros(releve.solde_ouverture),
                    "credits": euros(releve.total_credits),
                    "debits": euros(releve.total_debits),
                    "cloture": euros(releve.solde_cloture),
                },
                url_rapprochement=url_rapprochement(releve.etablissement_id),
            ),
        )

    # --- Import ----------------------------------------------------------------------

    def _vue_import(self, request, *, formulaire, importer, apres_import, contexte):
        """An import page: the file and the establishment (among the user's), the
        service's French refusal on the form, else its message and a redirection."""
        if not request.user.has_perm(PERMISSION_IMPORT):
            raise PermissionDenied
        envoi = request.method == "POST"
        form = formulaire(
            request.POST if envoi else None,
            request.FILES if envoi else None,
            etablissements=etablissements_geres(request.user),
        )
        if envoi and form.is_valid():
            fichier = form.cleaned_data["fichier"]
            try:
                objet = importer(
                    etablissement=form.cleaned_data["etablissement"],
                    fichier=fichier.read(),
                    auteur=request.user,
                    nom_fichier=fichier.name or "",
                )
            except ErreurMetier as exc:
                form.add_error(None, exc.message)
            else:
                message, niveau, adresse = apres_import(objet)
                self.message_user(request, message, niveau)
                return HttpResponseRedirect(adresse)
        return TemplateResponse(
            request,
            "admin/pecule/rapprochement/importer.html",
            contexte_admin(self, request, form=form, **contexte),
        )

    def vue_importer(self, request):
        def apres_import(releve):
            resume = services.resume_releve(releve)
            return (
                f"{releve} importé : {releve.lignes.count()} ligne(s), dont "
                f"{resume[StatutRapprochement.RAPPROCHEE]} rapprochée(s), "
                f"{resume[StatutRapprochement.MONTANT_DIFFERENT]} avec un montant "
                f"différent, {resume[StatutRapprochement.NON_RAPPROCHEE]} non "
                f"rapprochée(s) et {resume[StatutRapprochement.IGNOREE]} ignorée(s).",
                messages.SUCCESS,
                url_releve(releve.pk),
            )

        return self._vue_import(
            request,
            formulaire=ImportReleveForm,
            importer=services.importer_releve,
            apres_import=apres_import,
            contexte={"title": "Importer un relevé camt.053"},
        )

    def vue_importer_pain002(self, request):
        def apres_import(rapport):
            adresse = reverse("admin:regie_remise_change", args=[rapport.remise_id])
            if not rapport.nombre_rejets:
                return f"{rapport} importé : aucun rejet.", messages.SUCCESS, adresse
            return (
                f"{rapport} importé : {rapport.nombre_rejets} virement(s) rejeté(s) par la "
                "banque ; leur montant est remis en compte (ou le virement retourné revient "
                "dans la file « à traiter »). Vérifiez les coordonnées et émettez-les de "
                "nouveau.",
                messages.WARNING,
                adresse,
            )

        return self._vue_import(
            request,
            formulaire=ImportRapportForm,
            importer=services.importer_rapport_pain002,
            apres_import=apres_import,
            contexte={
                "title": "Importer un compte rendu de remise (pain.002)",
                "bouton": "Importer le compte rendu",
                "id_formulaire": "import-pain002-form",
                "introduction": "Le compte rendu de la banque dit, pour chaque virement d'une "
                "remise transmise, s'il est accepté ou rejeté. Un virement rejeté est remis "
                "en compte avec le motif de la banque ; un fichier qui cite une remise ou un "
                "virement inconnu est refusé en entier.",
            },
        )

    # --- Reconciliation --------------------------------------------------------------

    def vue_choix_rapprochement(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        etablissements = list(etablissements_geres(request.user))
        if len(etablissements) == 1:
            return HttpResponseRedirect(url_rapprochement(etablissements[0].pk))
        return TemplateResponse(
            request,
            "admin/pecule/rapprochement/choix_etablissement.html",
            contexte_admin(
                self,
                request,
                title="Rapprochement bancaire",
                etablissements=[(e, url_rapprochement(e.pk)) for e in etablissements],
            ),
        )

    def vue_rapprochement(self, request, etablissement_id: int):
        etablissement = get_object_or_404(etablissements_geres(request.user), pk=etablissement_id)
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            delai = max(1, min(30, int(request.GET.get("delai", services.DELAI_JOURS_OUVRES))))
        except ValueError:
            delai = services.DELAI_JOURS_OUVRES
        virements = [
            {
                "virement": virement,
                "montant": euros(virement.montant),
                "url": url_virement(virement.pk),
            }
            for virement in services.virements_executes_sans_ligne(etablissement, delai)
        ]
        ordres = [
            {"ordre": ordre, "montant": euros(ordre.montant), "url": url_ordre(ordre.pk)}
            for ordre in services.ordres_transmis_sans_ligne(etablissement, delai)
        ]
        dernier = ReleveBancaire.objects.filter(etablissement=etablissement).first()
        return TemplateResponse(
            request,
            "admin/pecule/rapprochement/rapprochement.html",
            contexte_admin(
                self,
                request,
                title=f"Rapprochement bancaire – {etablissement.nom}",
                etablissement=etablissement,
                non_rapprochees=[
                    _ligne(ligne) for ligne in services.lignes_non_rapprochees(etablissement)
                ],
                ecarts=[_ligne(ligne) for ligne in services.ecarts_de_montant(etablissement)],
                virements=virements,
                ordres=ordres,
                delai=delai,
                dernier_releve=dernier,
                url_dernier_releve=url_releve(dernier.pk) if dernier else None,
                peut_importer=request.user.has_perm(PERMISSION_IMPORT),
            ),
        )

    def get_urls(self):
        def vue(fonction):
            return self.admin_site.admin_view(fonction)

        return [
            path("importer/", vue(self.vue_importer), name="pecule_relevebancaire_importer"),
            path(
                "importer-pain002/",
                vue(self.vue_importer_pain002),
                name="pecule_relevebancaire_importer_pain002",
            ),
            path(
                "rapprochement/",
                vue(self.vue_choix_rapprochement),
                name="pecule_relevebancaire_rapprochement_choix",
            ),
            path(
                "rapprochement/<int:etablissement_id>/",
                vue(self.vue_rapprochement),
                name="pecule_relevebancaire_rapprochement",
            ),
            *super().get_urls(),
        ]


class LigneReleveAdmin(PerimetreMixin, LectureSeuleMixin, admin.ModelAdmin):
    chemin_etablissement = "etablissement"
    list_display = [
        "__str__",
        "releve_lie",
        "date_comptable",
        "sens",
        "montant",
        "nom_debiteur",
        "reference_bout_en_bout",
        "virement",
        "statut_rapprochement",
    ]
    list_filter = [
        "statut_rapprochement",
        "sens",
        ("etablissement", admin.RelatedOnlyFieldListFilter),
        "date_comptable",
    ]
    list_select_related = ["releve", "virement"]
    search_fields = [
        "reference_bout_en_bout",
        "libelle",
        "nom_debiteur",
        "iban_debiteur",
        "reference_banque",
        "virement__reference",
    ]
    readonly_fields = ["releve_lie"]
    exclude = ["releve"]

    @admin.display(description="relevé")
    def releve_lie(self, obj):
        return format_html('<a href="{}">{}</a>', url_releve(obj.releve_id), obj.releve)


class RapportPain002Admin(PerimetreMixin, LectureSeuleMixin, admin.ModelAdmin):
    chemin_etablissement = "etablissement"
    list_display = [
        "identifiant_message",
        "remise_liee",
        "etablissement",
        "statut_groupe",
        "nombre_rejets",
        "importe_le",
        "importe_par",
    ]
    list_filter = [("etablissement", admin.RelatedOnlyFieldListFilter), "statut_groupe"]
    list_select_related = ["remise", "etablissement", "importe_par"]
    search_fields = ["identifiant_message", "remise__reference"]
    fields = [
        "identifiant_message",
        "remise_liee",
        "etablissement",
        "statut_groupe",
        "nombre_rejets",
        "nom_fichier",
        "importe_le",
        "importe_par",
    ]
    readonly_fields = fields

    @admin.display(description="remise")
    def remise_liee(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:regie_remise_change", args=[obj.remise_id]),
            obj.remise.reference,
        )


admin.site.register(ReleveBancaire, ReleveBancaireAdmin)
admin.site.register(RapportPain002, RapportPain002Admin)
admin.site.register(LigneReleve, LigneReleveAdmin)
