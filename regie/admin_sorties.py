"""The back-office of money out (spec 05 §5): « Ordres de virement » with their state and
the « à valider » queue, the batches (remises) and their pain.001 file, and the changes of
the régie's own account. Every action calls one service of `regie.services` (four eyes
live there); every page is scoped to the user's establishments (`PerimetreMixin`).
Imported by `regie.admin`, which Django's admin discovers."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from socle.admin import LectureSeuleMixin, contexte_admin
from socle.erreurs import ErreurMetier
from socle.formats import euros

from . import selectors, services
from .admin_operations import formulaire_operation
from .admin_perimetre import PerimetreMixin
from .admin_views import url_compte
from .forms import CoordonneesBancairesMixin, FormulaireRegie, MotifSeulMixin, champ_date
from .models import (
    Etablissement,
    OrdreVirement,
    Remise,
    StatutOrdre,
    StatutRemise,
    VersionPain001,
)
from .services.ordres import masquer


def _nom(utilisateur) -> str:
    if utilisateur is None:
        return "–"
    return utilisateur.get_full_name() or utilisateur.get_username()


def _quand(instant) -> str:
    return f"{timezone.localtime(instant):%d/%m/%Y à %H:%M}" if instant else "–"


def _lien(url: str, texte) -> str:
    return format_html('<a href="{}">{}</a>', url, texte)


def _url(nom: str, *args) -> str:
    return reverse(f"admin:regie_{nom}", args=args)


def _vue(model_admin, fonction):
    def appel(request, *args, **kwargs):
        return fonction(model_admin, request, *args, **kwargs)

    return model_admin.admin_site.admin_view(appel)


def _executer(request, retour: str, appel, message: str) -> HttpResponseRedirect:
    """A one-click action (POST): `appel()` calls the service; its refusal becomes a French
    message, its success `message`."""
    try:
        appel()
    except ErreurMetier as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, message)
    return HttpResponseRedirect(retour)


# --- Forms ---------------------------------------------------------------------------------


class RefusForm(FormulaireRegie, MotifSeulMixin):
    pass


class ReemissionForm(FormulaireRegie, CoordonneesBancairesMixin):
    pass


class RemiseForm(FormulaireRegie):
    etablissement = forms.ModelChoiceField(
        label="Régie", queryset=Etablissement.objects.none(), empty_label=None
    )
    version = forms.ChoiceField(
        label="Format du fichier", choices=VersionPain001.choices, initial=VersionPain001.V03
    )
    date_execution = champ_date("Date d'exécution demandée")

    def __init__(self, *args, etablissements, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["etablissement"].queryset = etablissements


# --- Orders --------------------------------------------------------------------------------


@admin.register(OrdreVirement)
class OrdreVirementAdmin(PerimetreMixin, LectureSeuleMixin, admin.ModelAdmin):
    chemin_etablissement = "etablissement"
    list_display = [
        "reference",
        "nature",
        "beneficiaire_nom",
        "iban_masque",
        "montant_en_euros",
        "statut",
        "compte_lie",
        "prepare_le",
    ]
    list_filter = ["statut", "nature", ("etablissement", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["compte__detenu", "etablissement"]
    search_fields = [
        "reference",
        "beneficiaire_nom",
        "compte__detenu__nom",
        "compte__detenu__numero_ecrou",
        "remise__reference",
    ]
    date_hierarchy = "prepare_le"

    @admin.display(description="IBAN")
    def iban_masque(self, obj):
        return masquer(obj.beneficiaire_iban)

    @admin.display(description="montant", ordering="montant")
    def montant_en_euros(self, obj):
        return euros(obj.montant)

    @admin.display(description="compte nominatif")
    def compte_lie(self, obj):
        if obj.compte_id is None:
            return "–"
        return _lien(url_compte(obj.compte_id), obj.compte.detenu)

    def changelist_view(self, request, extra_context=None):
        a_valider = self.get_queryset(request).filter(statut=StatutOrdre.PREPARE).count()
        extra_context = {
            **(extra_context or {}),
            "title": "Ordres de virement",
            "subtitle": f"{a_valider} à valider" if a_valider else None,
        }
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        return [
            path(
                "<int:object_id>/valider/", _vue(self, valider), name="regie_ordrevirement_valider"
            ),
            path(
                "<int:object_id>/refuser/", _vue(self, refuser), name="regie_ordrevirement_refuser"
            ),
            path(
                "<int:object_id>/reemettre/",
                _vue(self, reemettre),
                name="regie_ordrevirement_reemettre",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        ordre = self.get_object(request, object_id)
        return TemplateResponse(
            request, "admin/regie/fiche.html", fiche_ordre(self, request, ordre)
        )


def fiche_ordre(model_admin, request, ordre: OrdreVirement) -> dict:
    faits = [
        ("Référence de bout en bout", ordre.reference),
        ("État", ordre.get_statut_display()),
        ("Nature", ordre.get_nature_display()),
        ("Montant", euros(ordre.montant)),
        ("Bénéficiaire", ordre.beneficiaire_nom),
        ("IBAN", ordre.beneficiaire_iban),
        ("BIC", ordre.beneficiaire_bic or "–"),
        ("Libellé du virement", ordre.libelle),
        ("Régie qui paie", ordre.etablissement.nom),
        (
            "Compte nominatif",
            _lien(url_compte(ordre.compte_id), ordre.compte.detenu) if ordre.compte_id else "–",
        ),
        (
            "Écriture payée",
            f"n° {ordre.ecriture_id}" if ordre.ecriture_id else "aucune (virement retourné)",
        ),
        ("Pièce justificative", ordre.piece or "–"),
        ("Préparé par", f"{_nom(ordre.prepare_par)}, le {_quand(ordre.prepare_le)}"),
    ]
    if ordre.valide_par_id:
        faits.append(("Validé par", f"{_nom(ordre.valide_par)}, le {_quand(ordre.valide_le)}"))
    if ordre.statut == StatutOrdre.REFUSE:
        faits.append(("Refusé par", f"{_nom(ordre.refuse_par)} : {ordre.motif_refus}"))
    if ordre.remise_id:
        faits.append(
            ("Remise", _lien(_url("remise_change", ordre.remise_id), ordre.remise.reference))
        )
    if ordre.execute_le:
        faits.append(
            ("Exécuté le", f"{ordre.execute_le:%d/%m/%Y} {ordre.reference_banque}".strip())
        )
    if ordre.statut == StatutOrdre.REJETE:
        faits.append(("Rejet de la banque", f"{ordre.code_rejet} {ordre.motif_rejet}".strip()))
    if ordre.ecriture_annulation_id:
        faits.append(("Remis en compte", f"écriture n° {ordre.ecriture_annulation_id}"))
    actions = []
    utilisateur = request.user
    if ordre.statut == StatutOrdre.PREPARE and utilisateur.has_perm("regie.valider_ordrevirement"):
        if utilisateur.pk == ordre.prepare_par_id:
            aide = "Vous avez préparé cet ordre : une autre personne doit le valider."
        else:
            aide = "Vérifiez le bénéficiaire et l'IBAN sur la pièce justificative avant de valider."
            actions += [
                {
                    "libelle": "Valider",
                    "url": _url("ordrevirement_valider", ordre.pk),
                    "post": True,
                    "principale": True,
                },
                {"libelle": "Refuser…", "url": _url("ordrevirement_refuser", ordre.pk)},
            ]
    elif ordre.statut == StatutOrdre.VALIDE and utilisateur.has_perm("regie.valider_ordrevirement"):
        aide = "Validé : il partira avec la prochaine remise, sauf refus."
        if utilisateur.pk != ordre.prepare_par_id:
            actions.append({"libelle": "Refuser…", "url": _url("ordrevirement_refuser", ordre.pk)})
    else:
        aide = ""
    if (
        ordre.en_echec
        and ordre.ecriture_id
        and not ordre.ecriture_annulation_id
        and utilisateur.has_perm("regie.passer_ecriture")
    ):
        actions.append(
            {"libelle": "Émettre à nouveau…", "url": _url("ordrevirement_reemettre", ordre.pk)}
        )
    etapes = [
        (
            _quand(e.quand),
            e.get_action_display(),
            _nom(e.auteur) if e.auteur_id else e.auteur_systeme,
            e.details,
        )
        for e in ordre.evenements.select_related("auteur")
    ]
    return contexte_admin(
        model_admin,
        request,
        title=f"Ordre de virement {ordre.reference}",
        subtitle=f"{euros(ordre.montant)} à {ordre.beneficiaire_nom}",
        original=ordre,
        faits=faits,
        actions=actions,
        aide_actions=aide,
        tableaux=[
            {"titre": "Étapes", "entetes": ["Date", "Étape", "Par", "Détails"], "rangs": etapes}
        ],
    )


def _ordre(model_admin, request, object_id) -> OrdreVirement:
    ordre = model_admin.get_object(request, str(object_id))
    if not model_admin.has_view_permission(request, ordre):
        raise PermissionDenied
    return ordre


def valider(model_admin, request, object_id):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    ordre = _ordre(model_admin, request, object_id)
    if not request.user.has_perm("regie.valider_ordrevirement"):
        raise PermissionDenied
    return _executer(
        request,
        _url("ordrevirement_change", ordre.pk),
        lambda: services.valider_ordre(ordre=ordre, auteur=request.user),
        f"Ordre {ordre.reference} validé : il partira avec la prochaine remise.",
    )


def refuser(model_admin, request, object_id):
    ordre = _ordre(model_admin, request, object_id)
    retour = _url("ordrevirement_change", ordre.pk)
    return formulaire_operation(
        request,
        model_admin=model_admin,
        titre=f"Refuser l'ordre {ordre.reference}",
        permission="regie.valider_ordrevirement",
        formulaire=RefusForm,
        executer=lambda form: _refuser(request, ordre, form, retour),
        url_retour=retour,
        objet=ordre,
        bouton="Refuser l'ordre",
        introduction="Le refus remet la somme là où elle était (ou, pour un virement retourné, "
        "le remet dans la file « à traiter ») ; le motif est conservé.",
    )


def _refuser(request, ordre, form, retour):
    services.refuser_ordre(ordre=ordre, auteur=request.user, motif=form.cleaned_data["motif"])
    if ordre.ecriture_id is None:
        suite = " : le virement revient dans la file « à traiter »."
    elif ordre.partie:
        suite = " : la somme est remise sur le compte nominatif."
    else:
        suite = " : émettez-le à nouveau vers le bon compte."
    return f"Ordre {ordre.reference} refusé{suite}", retour


def reemettre(model_admin, request, object_id):
    ordre = _ordre(model_admin, request, object_id)
    retour = _url("ordrevirement_change", ordre.pk)

    def executer(form):
        beneficiaire = services.beneficiaire_valide(
            form.cleaned_data["beneficiaire"], form.cleaned_data["iban"], form.cleaned_data["bic"]
        )
        nouvel = services.reemettre_ordre(
            ordre=ordre, auteur=request.user, beneficiaire=beneficiaire
        )
        return f"Nouvel ordre {nouvel.reference} préparé : à valider.", _url(
            "ordrevirement_change", nouvel.pk
        )

    return formulaire_operation(
        request,
        model_admin=model_admin,
        titre=f"Émettre à nouveau l'ordre {ordre.reference}",
        permission="regie.passer_ecriture",
        formulaire=ReemissionForm,
        executer=executer,
        url_retour=retour,
        objet=ordre,
        initial={
            "beneficiaire": ordre.beneficiaire_nom,
            "iban": ordre.beneficiaire_iban,
            "bic": ordre.beneficiaire_bic,
        },
        bouton="Préparer le nouvel ordre",
    )


# --- Batches -------------------------------------------------------------------------------


@admin.register(Remise)
class RemiseAdmin(PerimetreMixin, LectureSeuleMixin, admin.ModelAdmin):
    chemin_etablissement = "etablissement"
    list_display = [
        "reference",
        "etablissement",
        "statut",
        "nombre",
        "total_en_euros",
        "date_execution",
        "constituee_le",
        "transmise_le",
    ]
    list_filter = ["statut", ("etablissement", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["etablissement"]
    search_fields = ["reference", "ordres__reference"]

    @admin.display(description="somme de contrôle", ordering="total")
    def total_en_euros(self, obj):
        return euros(obj.total)

    def has_add_permission(self, request, obj=None):
        return request.user.has_perm("regie.constituer_remise")

    def add_view(self, request, form_url="", extra_context=None):
        etablissements = selectors.etablissements_geres(request.user)
        return formulaire_operation(
            request,
            model_admin=self,
            titre="Constituer une remise de virements",
            permission="regie.constituer_remise",
            formulaire=RemiseForm,
            executer=lambda form: _constituer(request, form),
            url_retour=_url("remise_changelist"),
            objet="Nouvelle remise",
            form_kwargs={"etablissements": etablissements},
            bouton="Constituer la remise",
            introduction="Tous les ordres validés de la régie sont rassemblés dans un fichier "
            "pain.001, contrôlé selon le schéma officiel. Télécharger le fichier le transmet : "
            "il n'est servi qu'une fois ; la remise peut être annulée jusque-là.",
        )

    def get_urls(self):
        return [
            path("<int:object_id>/fichier/", _vue(self, telecharger), name="regie_remise_fichier"),
            path("<int:object_id>/annuler/", _vue(self, annuler), name="regie_remise_annuler"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        remise = self.get_object(request, object_id)
        faits = [
            ("Identifiant du message (MsgId)", remise.reference),
            ("État", remise.get_statut_display()),
            ("Format", remise.get_version_display()),
            ("Nombre de virements", remise.nombre),
            ("Somme de contrôle", euros(remise.total)),
            ("Date d'exécution demandée", f"{remise.date_execution:%d/%m/%Y}"),
            ("Compte débité", f"{remise.debiteur_nom} – {remise.debiteur_iban}"),
            ("Empreinte SHA-256 du fichier", remise.empreinte),
            ("Constituée par", f"{_nom(remise.constituee_par)}, le {_quand(remise.constituee_le)}"),
        ]
        if remise.transmise_le:
            faits.append(
                ("Transmise par", f"{_nom(remise.transmise_par)}, le {_quand(remise.transmise_le)}")
            )
        if remise.annulee_le:
            faits.append(
                ("Annulée par", f"{_nom(remise.annulee_par)}, le {_quand(remise.annulee_le)}")
            )
        actions = []
        if remise.statut == StatutRemise.CONSTITUEE and request.user.has_perm(
            "regie.constituer_remise"
        ):
            actions = [
                {
                    "libelle": "Télécharger le fichier et le transmettre",
                    "url": _url("remise_fichier", remise.pk),
                    "post": True,
                    "principale": True,
                },
                {
                    "libelle": "Annuler la remise",
                    "url": _url("remise_annuler", remise.pk),
                    "post": True,
                },
            ]
        ordres = [
            (
                _lien(_url("ordrevirement_change", o.pk), o.reference),
                o.beneficiaire_nom,
                masquer(o.beneficiaire_iban),
                euros(o.montant),
                o.get_statut_display(),
            )
            for o in remise.ordres.order_by("pk")
        ]
        return TemplateResponse(
            request,
            "admin/regie/fiche.html",
            contexte_admin(
                self,
                request,
                title=f"Remise {remise.reference}",
                subtitle=f"{remise.nombre} virement(s), {euros(remise.total)}",
                original=remise,
                faits=faits,
                actions=actions,
                aide_actions="Déposez le fichier téléchargé sur le portail de la banque de la "
                "régie : il n'est servi qu'une fois, pour qu'un même virement ne parte jamais "
                "deux fois.",
                tableaux=[
                    {
                        "titre": "Ordres de la remise",
                        "entetes": ["Référence", "Bénéficiaire", "IBAN", "Montant", "État"],
                        "rangs": ordres,
                    }
                ],
            ),
        )


def _constituer(request, form):
    remise = services.constituer_remise(
        etablissement=form.cleaned_data["etablissement"],
        auteur=request.user,
        version=form.cleaned_data["version"],
        date_execution=form.cleaned_data["date_execution"],
    )
    return (
        f"Remise {remise.reference} constituée : {remise.nombre} virement(s), somme de contrôle "
        f"{euros(remise.total)}.",
        _url("remise_change", remise.pk),
    )


def _remise(model_admin, request, object_id) -> Remise:
    remise = model_admin.get_object(request, str(object_id))
    if not request.user.has_perm("regie.constituer_remise"):
        raise PermissionDenied
    return remise


def telecharger(model_admin, request, object_id):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    remise = _remise(model_admin, request, object_id)
    try:
        fichier = services.transmettre_remise(remise=remise, auteur=request.user)
    except ErreurMetier as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(_url("remise_change", remise.pk))
    reponse = HttpResponse(fichier, content_type="application/xml")
    reponse["Content-Disposition"] = f'attachment; filename="{remise.reference}.xml"'
    return reponse


def annuler(model_admin, request, object_id):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    remise = _remise(model_admin, request, object_id)
    return _executer(
        request,
        _url("remise_change", remise.pk),
        lambda: services.annuler_remise(remise=remise, auteur=request.user),
        f"Remise {remise.reference} annulée : ses ordres sont de nouveau validés.",
    )
