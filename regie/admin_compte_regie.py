"""The back-office of the régie's own bank account (spec 05 §4): a change is proposed by
one person and approved or refused by another, in `regie.services.compte_regie`; until
approved, the old account stays in use. Imported by `regie.admin`."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path

from socle.admin import LectureSeuleMixin, contexte_admin

from . import selectors, services
from .admin_operations import formulaire_operation
from .admin_perimetre import PerimetreMixin
from .admin_sorties import _nom, _quand, _url, _vue
from .forms import FormulaireRegie, MotifSeulMixin
from .models import ChangementCompteRegie, Etablissement, StatutChangementCompte
from .services.ordres import masquer


class ChangementCompteForm(FormulaireRegie, MotifSeulMixin):
    etablissement = forms.ModelChoiceField(
        label="Établissement", queryset=Etablissement.objects.none(), empty_label=None
    )
    titulaire = forms.CharField(
        label="Nouveau titulaire du compte",
        max_length=70,
        help_text="Le nom que la banque du payeur compare au nom donné (vérification du "
        "bénéficiaire).",
    )
    iban = forms.CharField(label="Nouvel IBAN", max_length=42)
    field_order = ["etablissement", "titulaire", "iban", "motif"]

    def __init__(self, *args, etablissements, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["etablissement"].queryset = etablissements


class DecisionChangementForm(FormulaireRegie):
    APPROUVER, REFUSER = "approuver", "refuser"
    decision = forms.ChoiceField(choices=[(APPROUVER, "Approuver"), (REFUSER, "Refuser")])
    motif = forms.CharField(
        label="Motif (obligatoire pour un refus)",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
        required=False,
    )


# --- The régie's account ---------------------------------------------------------------


@admin.register(ChangementCompteRegie)
class ChangementCompteRegieAdmin(PerimetreMixin, LectureSeuleMixin, admin.ModelAdmin):
    chemin_etablissement = "etablissement"
    list_display = [
        "etablissement",
        "statut",
        "nouveau_titulaire",
        "nouvel_iban_masque",
        "propose_par",
        "propose_le",
        "decide_par",
    ]
    list_filter = ["statut", ("etablissement", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["etablissement", "propose_par", "decide_par"]

    @admin.display(description="nouvel IBAN")
    def nouvel_iban_masque(self, obj):
        return masquer(obj.nouvel_iban)

    def has_add_permission(self, request, obj=None):
        return request.user.has_perm("regie.add_changementcompteregie")

    def add_view(self, request, form_url="", extra_context=None):
        etablissements = selectors.etablissements_geres(request.user)
        return formulaire_operation(
            request,
            model_admin=self,
            titre="Proposer un changement du compte de la régie",
            permission="regie.add_changementcompteregie",
            formulaire=ChangementCompteForm,
            executer=lambda form: _proposer(request, form),
            url_retour=_url("changementcompteregie_changelist"),
            objet="Nouvelle proposition",
            form_kwargs={"etablissements": etablissements},
            initial={"etablissement": request.GET.get("etablissement")},
            bouton="Proposer",
            introduction="Le changement ne prend effet qu'après l'approbation d'une autre "
            "personne ; jusque-là, les virements continuent d'utiliser le compte actuel. Les "
            "personnes qui peuvent l'approuver sont prévenues par courriel.",
        )

    def get_urls(self):
        return [
            path(
                "<int:object_id>/decision/",
                _vue(self, decider_changement),
                name="regie_changementcompteregie_decision",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        changement = self.get_object(request, object_id)
        faits = [
            ("Établissement", changement.etablissement.nom),
            ("État", changement.get_statut_display()),
            ("Compte actuel (avant)", f"{changement.ancien_titulaire} – {changement.ancien_iban}"),
            ("Nouveau compte", f"{changement.nouveau_titulaire} – {changement.nouvel_iban}"),
            ("Motif", changement.motif),
            ("Proposé par", f"{_nom(changement.propose_par)}, le {_quand(changement.propose_le)}"),
        ]
        if changement.decide_par_id:
            faits.append(
                (
                    "Décidé par",
                    f"{_nom(changement.decide_par)}, le {_quand(changement.decide_le)} {changement.motif_decision}".strip(),
                )
            )
        actions, aide = [], ""
        if changement.statut == StatutChangementCompte.PROPOSE and request.user.has_perm(
            "regie.approuver_changementcompteregie"
        ):
            if request.user.pk == changement.propose_par_id:
                aide = "Vous avez proposé ce changement : une autre personne doit le décider."
            else:
                actions = [
                    {
                        "libelle": "Approuver ou refuser…",
                        "url": _url("changementcompteregie_decision", changement.pk),
                    }
                ]
        return TemplateResponse(
            request,
            "admin/regie/fiche.html",
            contexte_admin(
                self,
                request,
                title="Changement du compte de la régie",
                subtitle=changement.etablissement.nom,
                original=changement,
                faits=faits,
                actions=actions,
                aide_actions=aide,
            ),
        )


def _proposer(request, form):
    changement = services.proposer_changement_compte(
        etablissement=form.cleaned_data["etablissement"],
        titulaire=form.cleaned_data["titulaire"],
        iban=form.cleaned_data["iban"],
        motif=form.cleaned_data["motif"],
        auteur=request.user,
    )
    return (
        "Changement proposé : il prendra effet après l'approbation d'une autre personne.",
        _url("changementcompteregie_change", changement.pk),
    )


def decider_changement(model_admin, request, object_id):
    changement = model_admin.get_object(request, str(object_id))
    retour = _url("changementcompteregie_change", changement.pk)

    def executer(form):
        if form.cleaned_data["decision"] == DecisionChangementForm.APPROUVER:
            services.approuver_changement_compte(
                changement=changement, auteur=request.user, motif=form.cleaned_data["motif"]
            )
            return "Changement approuvé : le compte de la régie est désormais le nouveau.", retour
        services.refuser_changement_compte(
            changement=changement, auteur=request.user, motif=form.cleaned_data["motif"]
        )
        return "Changement refusé : le compte de la régie reste inchangé.", retour

    return formulaire_operation(
        request,
        model_admin=model_admin,
        titre="Décider le changement du compte de la régie",
        permission="regie.approuver_changementcompteregie",
        formulaire=DecisionChangementForm,
        executer=executer,
        url_retour=retour,
        objet=changement,
        boutons=[
            ("decision", DecisionChangementForm.APPROUVER, "Approuver"),
            ("decision", DecisionChangementForm.REFUSER, "Refuser"),
        ],
        introduction=f"Compte actuel : {changement.ancien_titulaire} – {changement.ancien_iban}. "
        f"Nouveau compte proposé : {changement.nouveau_titulaire} – {changement.nouvel_iban}. "
        "Vérifiez-le sur le relevé d'identité bancaire délivré par le teneur du compte.",
    )
