"""The back-office's operations that move money or take a D.422 step: one table of
operations driving one view.

Each `Operation` names its form, the service it calls, its permission and its wording.
The generic view:
1. finds the operation's object through the ModelAdmin's scoped queryset (another
   establishment's object, or a missing one, is a 404);
2. checks the permission of the operation (403 otherwise);
3. on a valid POST calls the service once, with the form's `arguments()`, the object, the
   user as author and, for the services that take one, the form's token as `source`. An
   `ErreurMetier` is shown as a form error, in French, and nothing is written; a token
   already booked (`EcritureDejaPassee`) is reported and nothing is booked twice.
No rule of the régie lives here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from socle.admin import contexte_admin
from socle.erreurs import ErreurMetier
from socle.formats import euros

from . import forms as regie_forms
from . import services
from .admin_views import _compte_visible, faits_d422, url_autorisation, url_compte, variations
from .emetteurs import emetteurs_possibles
from .exceptions import EcritureDejaPassee
from .models import (
    NOMS_PARTIES,
    PARTIES_DU_COMPTE,
    CompteNominatif,
    DecisionMagistrat,
    Ecriture,
    NatureEcriture,
    PermissionSortie,
    Saisie,
    StatutPenal,
)


def formulaire_operation(
    request,
    *,
    model_admin,
    titre: str,
    permission: str,
    formulaire: type[regie_forms.FormulaireRegie],
    executer: Callable[[regie_forms.FormulaireRegie], tuple[str, str | None]],
    url_retour: str,
    objet,
    compte: CompteNominatif | None = None,
    form_kwargs: dict | None = None,
    initial: dict | None = None,
    bouton: str = "Enregistrer",
    boutons: list[tuple[str, str, str]] | None = None,
    encart: str | None = None,
    introduction: str = "",
    contexte: dict | None = None,
) -> HttpResponse:
    """Display a form, and on a valid POST call `executer(form)` (one service call) that
    returns the success message and where to go next (None: `url_retour`). The form's
    hidden token is the service's `source`, so a second submit books nothing twice.
    """
    if not request.user.has_perm(permission):
        raise PermissionDenied
    form_kwargs = form_kwargs or {}
    if request.method == "POST":
        form = formulaire(request.POST, **form_kwargs)
        if form.is_valid():
            try:
                message, suite = executer(form)
            except EcritureDejaPassee as exc:
                messages.warning(request, f"{exc} Rien n'a été enregistré une seconde fois.")
                return HttpResponseRedirect(url_retour)
            except ErreurMetier as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, message)
                return HttpResponseRedirect(suite or url_retour)
    else:
        form = formulaire(initial=initial, **form_kwargs)
    champs_boutons = {nom for nom, _valeur, _libelle in boutons or []}
    return TemplateResponse(
        request,
        "admin/regie/formulaire.html",
        contexte_admin(
            model_admin,
            request,
            **{
                "compte": compte,
                **(contexte or {}),
                "title": titre,
                "subtitle": str(objet),
                "original": objet,
                "form": form,
                "champs_visibles": [
                    f for f in form.visible_fields() if f.name not in champs_boutons
                ],
                "bouton": bouton,
                "boutons": boutons,
                "encart": encart,
                "introduction": introduction,
                "url_retour": url_retour,
                "media": model_admin.media + form.media,
            },
        ),
    )


def message_ecriture(libelle: str, ecriture: Ecriture | None) -> str:
    """« Recette enregistrée : écriture n° 12 de 50,00 € (… part disponible). »"""
    if ecriture is None:
        return f"{libelle} : aucun mouvement d'argent."
    v = variations(ecriture)
    details = [
        f"{euros(v[partie])} {NOMS_PARTIES[partie].court.lower()}"
        for partie in PARTIES_DU_COMPTE
        if v[partie]
    ]
    return (
        f"{libelle} : écriture n° {ecriture.pk} de {euros(ecriture.montant)} "
        f"({', '.join(details)})."
    )


# --- What an operation acts on ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cible:
    """What the page is about (`objet`), what the service acts on (`sujet`, passed under
    the keyword `cle`), and where the page sits (account balances or D.422 facts)."""

    objet: object
    sujet: object
    cle: str
    url_retour: str
    compte: CompteNominatif | None
    encart: str
    contexte: dict = field(default_factory=dict)


def sur_le_compte(model_admin, request, object_id) -> Cible:
    compte = _compte_visible(model_admin, request, object_id)
    return Cible(
        objet=compte,
        sujet=compte,
        cle="compte",
        url_retour=url_compte(compte.pk),
        compte=compte,
        encart="admin/regie/comptenominatif/_soldes.html",
    )


def sur_une_permission(model_admin, request, object_id, permission_id) -> Cible:
    compte = _compte_visible(model_admin, request, object_id)
    permission = get_object_or_404(PermissionSortie, pk=permission_id, compte=compte)
    return Cible(
        objet=compte,
        sujet=permission,
        cle="permission",
        url_retour=url_compte(compte.pk),
        compte=compte,
        encart="admin/regie/comptenominatif/_soldes.html",
    )


def sur_une_saisie(model_admin, request, object_id, saisie_id) -> Cible:
    compte = _compte_visible(model_admin, request, object_id)
    saisie = get_object_or_404(Saisie, pk=saisie_id, compte=compte)
    return Cible(
        objet=compte,
        sujet=saisie,
        cle="saisie",
        url_retour=url_compte(compte.pk),
        compte=compte,
        encart="admin/regie/comptenominatif/_soldes.html",
    )


def sur_une_alerte(model_admin, request, object_id) -> Cible:
    alerte = model_admin.get_object(request, str(object_id))
    if alerte is None or not model_admin.has_view_permission(request, alerte):
        raise PermissionDenied
    return Cible(
        objet=alerte,
        sujet=alerte,
        cle="alerte",
        url_retour=reverse("admin:regie_alertevigilance_change", args=[alerte.pk]),
        compte=None,
        encart="admin/regie/alertevigilance/_faits.html",
        contexte={"alerte": alerte},
    )


def sur_une_retenue(model_admin, request, object_id) -> Cible:
    retenue = model_admin.get_object(request, str(object_id))
    if retenue is None or not model_admin.has_view_permission(request, retenue):
        raise PermissionDenied
    return Cible(
        objet=retenue,
        sujet=retenue,
        cle="retenue",
        url_retour=reverse("admin:regie_retenueemetteur_changelist"),
        compte=None,
        encart="",
    )


def sur_une_autorisation(model_admin, request, object_id) -> Cible:
    autorisation = model_admin.get_object(request, str(object_id))
    if not model_admin.has_view_permission(request, autorisation):
        raise PermissionDenied
    faits = faits_d422(autorisation)
    return Cible(
        objet=autorisation,
        sujet=autorisation,
        cle="autorisation",
        url_retour=url_autorisation(autorisation.pk),
        compte=faits["compte"],
        encart="admin/regie/autorisationd422/_faits.html",
        contexte=faits,
    )


# --- The table ------------------------------------------------------------------------

Texte = str | Callable[[object], str]


def _texte(texte: Texte, sujet) -> str:
    return texte(sujet) if callable(texte) else texte


def ecriture(libelle: Texte) -> Callable:
    """The success message of a service that returns an entry (or None)."""
    return lambda sujet, resultat, _arguments: message_ecriture(_texte(libelle, sujet), resultat)


@dataclass(frozen=True)
class Operation:
    nom: str  # URL name suffix: admin:regie_<model>_<nom>
    route: str
    cible: Callable[..., Cible]
    titre: Texte
    formulaire: type[regie_forms.FormulaireRegie]
    service: Callable
    message: Callable[[object, object, dict], str]  # (object, result, arguments)
    permission: str = "regie.passer_ecriture"
    avec_source: bool = False  # the service takes the form's token as `source`
    bouton: Texte = "Enregistrer"
    boutons: list[tuple[str, str, str]] | None = None
    introduction: Texte = ""
    form_kwargs: Callable[[Cible], dict] | None = None
    initial: Callable[[object], dict] | None = None  # from the request
    suite: Callable[[object, object], str] | None = None  # where to go after success
    # The service's keywords for the object (default: the target under its own keyword).
    objet_du_service: Callable[[Cible], dict] | None = None


def vue_operation(operation: Operation, model_admin, request, object_id, **parametres):
    cible = operation.cible(model_admin, request, object_id, **parametres)
    sujet = cible.sujet

    def executer(form):
        arguments = form.arguments()
        objet = (
            operation.objet_du_service(cible) if operation.objet_du_service else {cible.cle: sujet}
        )
        source = {"source": form.source} if operation.avec_source else {}
        resultat = operation.service(**arguments, **objet, **source, auteur=request.user)
        suite = operation.suite(sujet, resultat) if operation.suite else None
        return operation.message(sujet, resultat, arguments), suite

    return formulaire_operation(
        request,
        model_admin=model_admin,
        titre=_texte(operation.titre, sujet),
        permission=operation.permission,
        formulaire=operation.formulaire,
        executer=executer,
        url_retour=cible.url_retour,
        objet=cible.objet,
        compte=cible.compte,
        form_kwargs=operation.form_kwargs(cible) if operation.form_kwargs else None,
        initial=operation.initial(request) if operation.initial else None,
        bouton=_texte(operation.bouton, sujet),
        boutons=operation.boutons,
        encart=cible.encart,
        introduction=_texte(operation.introduction, sujet),
        contexte=cible.contexte,
    )


def vues(operations: list[Operation]) -> list[tuple[str, Callable, str]]:
    """(route, view taking (model_admin, request, object_id, …), URL name suffix) for
    each operation, as the ModelAdmins mount them."""

    def vue(operation):
        def appel(model_admin, request, object_id, **parametres):
            return vue_operation(operation, model_admin, request, object_id, **parametres)

        return appel

    return [(operation.route, vue(operation), operation.nom) for operation in operations]


def _recette(*, nature, emetteur, **commun):
    """A receipt: the capital of a work-accident rent has its own service."""
    if nature == NatureEcriture.CAPITAL_RENTE_AT:
        return services.crediter_capital_rente_accident_travail(**commun)
    return services.encaisser_recette(nature=nature, emetteur=emetteur, **commun)


def _message_transfert(compte, sortie_entree, arguments) -> str:
    sortie, _entree = sortie_entree
    detenu = compte.detenu
    message = f"{detenu.nom} {detenu.prenoms} a été transféré(e) vers l'établissement {arguments['vers'].nom}"
    if sortie is not None:
        message += f" avec un solde de {euros(sortie.montant)}"
    return message + "."


def _ecriture_choisie(request) -> dict:
    return {"ecriture": request.GET.get("ecriture")}


def _du_compte(cible: Cible) -> dict:
    return {"compte": cible.compte}


def _du_detenu(cible: Cible) -> dict:
    return {"detenu": cible.compte.detenu}


def _fait(libelle: Texte) -> Callable:
    """The success message of a service that records a status (no entry)."""
    return lambda sujet, _resultat, _arguments: f"{_texte(libelle, sujet)}."


def _ecriture_ou_fait(libelle: str) -> Callable:
    """A status that may also move money (one entry, or none)."""

    def message(sujet, resultat, _arguments):
        if resultat is None or not isinstance(resultat, Ecriture):
            return f"{libelle}."
        return message_ecriture(libelle, resultat)

    return message


def _ressources(compte) -> str:
    situation = services.ressources(compte)
    return (
        "Personne dépourvue de ressources suffisantes si, cumulativement, la part disponible "
        "du mois précédent et celle du mois en cours, et les dépenses du mois, sont "
        "inférieures à 100 € (aides en nature, D. 333-1) ou à 60 € (aide en numéraire, "
        f"D. 333-2). Ce mois-ci : {situation.constat()} – aide en nature : "
        f"{'oui' if situation.aide_en_nature else 'non'}, aide en numéraire : "
        f"{'oui' if situation.aide_en_numeraire else 'non'}."
    )


# Issue 12: the écrou's situation and the articles modelled since. Statuses are recorded
# with the permission `enregistrer_situation`; the money they move is booked by the same
# service, in the same transaction.
OPERATIONS_SITUATIONS = [
    Operation(
        "suspension",
        "suspension/",
        sur_le_compte,
        "Suspension ou fractionnement de peine (D. 332-24)",
        regie_forms.SuspensionForm,
        services.suspendre_peine,
        _ecriture_ou_fait("Suspension de peine enregistrée"),
        permission="regie.enregistrer_situation",
        avec_source=True,
        objet_du_service=_du_detenu,
        introduction="Pendant la suspension ou le fractionnement, seule la part disponible est "
        "remise ; les parts des parties civiles et du pécule de libération ne sont liquidées "
        "qu'à la fin de l'exécution de la peine (D. 332-24).",
    ),
    Operation(
        "fin_suspension",
        "fin-suspension/",
        sur_le_compte,
        "Retour sous écrou après la suspension",
        regie_forms.FinSuspensionForm,
        services.mettre_fin_suspension,
        _fait("Retour sous écrou enregistré : le compte continue"),
        permission="regie.enregistrer_situation",
        objet_du_service=_du_detenu,
    ),
    Operation(
        "deces",
        "deces/",
        sur_le_compte,
        "Enregistrer le décès (D. 332-8)",
        regie_forms.DecesForm,
        services.constater_deces,
        _fait("Décès enregistré : le compte est conservé pour les ayants droit"),
        permission="regie.enregistrer_situation",
        objet_du_service=_du_detenu,
    ),
    Operation(
        "ayants_droit",
        "ayants-droit/",
        sur_le_compte,
        "Remettre aux ayants droit",
        regie_forms.AyantsDroitForm,
        services.remettre_aux_ayants_droit,
        ecriture("Remise aux ayants droit enregistrée"),
        avec_source=True,
        introduction="La part disponible et le pécule sont remis aux ayants droit ; la part des "
        "parties civiles reste due aux victimes et aux créanciers d'aliments, sauf s'ils n'ont "
        "aucun droit.",
    ),
    Operation(
        "tresor_deces",
        "tresor-deces/",
        sur_le_compte,
        "Verser au Trésor les sommes non réclamées (trois ans après le décès)",
        regie_forms.VersementTresorForm,
        services.verser_au_tresor_apres_deces,
        ecriture("Versement au Trésor enregistré"),
        avec_source=True,
    ),
    Operation(
        "evasion",
        "evasion/",
        sur_le_compte,
        "Enregistrer l'évasion (L. 332-4)",
        regie_forms.EvasionForm,
        services.constater_evasion,
        _ecriture_ou_fait("Évasion enregistrée"),
        permission="regie.enregistrer_situation",
        objet_du_service=_du_detenu,
        introduction="La part disponible est affectée d'office à l'indemnisation des parties "
        "civiles ; le reliquat est versé au Trésor (L. 332-4). Le compte est arrêté.",
    ),
    Operation(
        "reprise",
        "reprise/",
        sur_le_compte,
        "Enregistrer la reprise",
        regie_forms.RepriseForm,
        services.constater_reprise,
        _fait("Reprise enregistrée"),
        permission="regie.enregistrer_situation",
        objet_du_service=_du_detenu,
    ),
    Operation(
        "retablissement",
        "retablissement/",
        sur_le_compte,
        "Rétablir le reliquat après la reprise (D. 332-8-1)",
        regie_forms.RetablissementForm,
        services.retablir_apres_evasion,
        ecriture("Rétablissement enregistré"),
        avec_source=True,
        introduction=lambda compte: (
            "Sur décision du directeur interrégional du lieu de l'évasion : "
            f"{euros(services.reliquat_evasion_retablissable(compte))} rétablissables."
        ),
    ),
    Operation(
        "tresor_evasion",
        "tresor-evasion/",
        sur_le_compte,
        "Verser au Trésor (un an après l'évasion, sans reprise)",
        regie_forms.VersementTresorForm,
        services.verser_au_tresor_apres_evasion,
        ecriture("Versement au Trésor enregistré"),
        avec_source=True,
    ),
    Operation(
        "contrainte",
        "contrainte/",
        sur_le_compte,
        "Contrainte judiciaire (D. 332-23)",
        regie_forms.ContrainteForm,
        services.placer_sous_contrainte_judiciaire,
        _fait("Contrainte judiciaire enregistrée"),
        permission="regie.enregistrer_situation",
        objet_du_service=_du_detenu,
    ),
    Operation(
        "contrainte_paiement",
        "contrainte/paiement/",
        sur_le_compte,
        "Payer la dette par le pécule et la part des parties civiles (D. 332-23)",
        regie_forms.PaiementContrainteForm,
        services.payer_dette_contrainte_judiciaire,
        ecriture("Paiement de la dette enregistré"),
        permission="regie.decider_deblocage_pecule",
        avec_source=True,
        introduction=lambda compte: (
            "À la demande de la personne détenue, si les parties civiles sont entièrement "
            "indemnisées (ou n'existent pas) et qu'aucun créancier d'aliments ne se prévaut "
            "d'un titre exécutoire : le pécule d'abord, puis la part des parties civiles. "
            f"Dette restante : {euros(services.dette_contrainte_restante(compte))}."
        ),
    ),
    Operation(
        "contrainte_fin",
        "contrainte/fin/",
        sur_le_compte,
        "Fin de la contrainte judiciaire",
        regie_forms.FinContrainteForm,
        services.lever_contrainte_judiciaire,
        _fait("Fin de la contrainte judiciaire enregistrée"),
        permission="regie.enregistrer_situation",
        objet_du_service=_du_detenu,
    ),
    Operation(
        "prescription_jap",
        "prescription-jap/",
        sur_le_compte,
        "Prescription du JAP sur la part des parties civiles (D. 424-1)",
        regie_forms.PrescriptionJapForm,
        services.enregistrer_prescription_jap,
        _fait("Prescription du JAP enregistrée"),
        permission="regie.enregistrer_situation",
        avec_source=True,
        objet_du_service=_du_detenu,
        introduction="Sous surveillance électronique, en semi-liberté ou en placement à "
        "l'extérieur, la part des parties civiles reste due « sous réserve de prescriptions "
        "particulières déterminées par le juge de l'application des peines » : dispense "
        "totale, proportion du prélèvement maintenue, ou prélèvement limité par mois.",
    ),
    Operation(
        "versement_volontaire",
        "versement-volontaire/",
        sur_le_compte,
        "Versement volontaire à la part des parties civiles (D. 332-12)",
        regie_forms.VersementVolontaireForm,
        services.verser_volontairement_parties_civiles,
        ecriture("Versement volontaire enregistré"),
        avec_source=True,
        introduction="À la demande écrite de la personne détenue, une somme de la part "
        "disponible alimente la part des parties civiles, même si les victimes ne sont pas "
        "encore connues ; la personne ne peut plus en disposer (D. 332-11).",
    ),
    Operation(
        "saisie",
        "saisie/",
        sur_le_compte,
        "Enregistrer une saisie-attribution (D. 332-20)",
        regie_forms.SaisieForm,
        services.enregistrer_saisie,
        lambda compte, saisie, _arguments: (
            f"Saisie-attribution n° {saisie.pk} de {saisie.creancier} enregistrée."
        ),
        avec_source=True,
        introduction="La saisie-attribution ne porte que sur la part disponible, sous réserve "
        "du cantonnement ordonné par le juge et des insaisissabilités reconnues par la loi "
        "(D. 332-20).",
    ),
    Operation(
        "saisie_paiement",
        "saisie/<int:saisie_id>/paiement/",
        sur_une_saisie,
        lambda saisie: f"Payer la saisie de {saisie.creancier}",
        regie_forms.PaiementSaisieForm,
        services.payer_saisie,
        ecriture("Paiement de la saisie enregistré"),
        avec_source=True,
        introduction=lambda saisie: (
            f"Somme réclamée : {euros(saisie.montant_cause)} ; déjà payée : "
            f"{euros(services.montant_paye_saisie(saisie))} ; laissée à disposition : "
            f"{euros(saisie.montant_laisse)}. Saisissable maintenant : "
            f"{euros(services.montant_saisissable(saisie, saisie.compte))}."
        ),
    ),
    Operation(
        "saisie_mainlevee",
        "saisie/<int:saisie_id>/mainlevee/",
        sur_une_saisie,
        lambda saisie: f"Mainlevée de la saisie de {saisie.creancier}",
        regie_forms.MainleveeForm,
        services.lever_saisie,
        _fait("Mainlevée enregistrée"),
    ),
    Operation(
        "livret_placement",
        "livret-a/placement/",
        sur_le_compte,
        "Placer le pécule sur livret A (D. 332-14)",
        regie_forms.PlacementLivretForm,
        services.placer_pecule_livret_a,
        ecriture("Placement sur livret A enregistré"),
        avec_source=True,
        introduction=lambda compte: (
            "Le pécule de libération est versé sur un livret A lorsqu'il dépasse la somme "
            "fixée par arrêté du garde des sceaux. Il reste indisponible. À placer : "
            f"{euros(services.pecule_a_placer(compte))}."
        ),
    ),
    Operation(
        "livret_rapatriement",
        "livret-a/rapatriement/",
        sur_le_compte,
        "Rapatrier le livret A sur le pécule",
        regie_forms.RapatriementLivretForm,
        services.rapatrier_pecule_livret_a,
        ecriture("Rapatriement du livret A enregistré"),
        avec_source=True,
    ),
    Operation(
        "livret_interets",
        "livret-a/interets/",
        sur_le_compte,
        "Intérêts du livret A",
        regie_forms.InteretsLivretForm,
        services.crediter_interets_livret_a,
        ecriture("Intérêts du livret A enregistrés"),
        avec_source=True,
    ),
    Operation(
        "aide_numeraire",
        "aide-numeraire/",
        sur_le_compte,
        "Aide en numéraire (D. 333-2)",
        regie_forms.AideForm,
        services.attribuer_aide_numeraire,
        ecriture("Aide en numéraire versée"),
        avec_source=True,
        introduction=_ressources,
    ),
    Operation(
        "aide_urgence",
        "aide-urgence/",
        sur_le_compte,
        "Aide d'urgence à l'arrivée",
        regie_forms.AideForm,
        services.attribuer_aide_urgence,
        ecriture("Aide d'urgence versée"),
        avec_source=True,
        introduction=_ressources,
    ),
]

OPERATIONS_VIGILANCE = [
    Operation(
        "decision",
        "decision/",
        sur_une_alerte,
        lambda alerte: f"Décision sur l'alerte n° {alerte.pk}",
        regie_forms.DecisionAlerteForm,
        services.decider_alerte,
        lambda alerte, resultat, _arguments: (
            f"Alerte n° {resultat.pk} : {resultat.get_statut_display().lower()}."
        ),
        permission="regie.decider_vigilance",
        boutons=[
            ("decision", regie_forms.DecisionAlerteForm.RIEN, "Rien à signaler"),
            ("decision", regie_forms.DecisionAlerteForm.SIGNALER, "Signaler"),
        ],
        introduction="Le chef d'établissement donne connaissance à l'autorité judiciaire des "
        "sommes qui, en raison de leur nature, de leur importance ou de leur origine, "
        "paraissent susceptibles d'être retenues ou saisies (ancien D. 339). La décision ne "
        "bloque aucun crédit, sauf si vous retenez les crédits de l'émetteur.",
    ),
]

OPERATIONS_RETENUE = [
    Operation(
        "levee",
        "levee/",
        sur_une_retenue,
        lambda retenue: f"Lever la retenue des crédits de {retenue.emetteur}",
        regie_forms.ConfirmationForm,
        services.lever_retenue,
        _fait("Retenue levée : les crédits de cet émetteur ne sont plus retenus"),
        permission="regie.decider_vigilance",
        bouton="Lever la retenue",
    ),
]


OPERATIONS_COMPTE = [
    Operation(
        "recette",
        "recette/",
        sur_le_compte,
        "Enregistrer une recette",
        regie_forms.RecetteForm,
        _recette,
        ecriture("Recette enregistrée"),
        avec_source=True,
        introduction="Les recettes soumises sont réparties entre les trois parts selon le "
        "cumul du mois ; le capital d'une rente d'accident du travail va en totalité au "
        "pécule de libération.",
    ),
    Operation(
        "debit",
        "debit/",
        sur_le_compte,
        "Enregistrer un débit de la part disponible",
        regie_forms.DebitForm,
        services.debiter_part_disponible,
        ecriture("Débit enregistré"),
        avec_source=True,
    ),
    Operation(
        "parties_civiles",
        "parties-civiles/",
        sur_le_compte,
        "Payer les parties civiles",
        regie_forms.PaiementPartiesCivilesForm,
        services.payer_parties_civiles,
        ecriture("Paiement aux parties civiles enregistré"),
        avec_source=True,
        introduction="Paiement sur la part des parties civiles, à la demande du procureur "
        "de la République (D. 332-11) ; les créanciers d'aliments sont payés en premier.",
    ),
    Operation(
        "deblocage",
        "deblocage-pecule/",
        sur_le_compte,
        "Débloquer le pécule de libération (D. 424-3)",
        regie_forms.DeblocagePeculeForm,
        services.debloquer_pecule_liberation,
        ecriture("Déblocage du pécule enregistré"),
        permission="regie.decider_deblocage_pecule",
        avec_source=True,
    ),
    Operation(
        "permission",
        "permission/",
        sur_le_compte,
        "Fixer la somme d'une permission de sortir",
        regie_forms.FixerPermissionForm,
        services.fixer_permission_sortie,
        lambda compte, permission, _arguments: (
            f"Somme de {euros(permission.montant_fixe)} fixée pour la permission de sortir "
            f"du {permission.date_sortie:%d/%m/%Y}."
        ),
        permission="regie.fixer_permission_sortie",
        avec_source=True,
        bouton="Fixer la somme",
    ),
    Operation(
        "permission_remise",
        "permission/<int:permission_id>/remise/",
        sur_une_permission,
        lambda permission: (
            f"Remettre la somme de la permission du {permission.date_sortie:%d/%m/%Y}"
        ),
        regie_forms.RemisePermissionForm,
        services.remettre_somme_permission,
        ecriture("Somme remise pour la permission de sortir"),
        bouton=lambda permission: f"Remettre {euros(permission.montant_fixe)}",
    ),
    Operation(
        "permission_retour",
        "permission/<int:permission_id>/retour/",
        sur_une_permission,
        lambda permission: f"Retour de la permission du {permission.date_sortie:%d/%m/%Y}",
        regie_forms.RetourPermissionForm,
        services.enregistrer_retour_permission,
        ecriture("Retour de permission enregistré"),
        introduction=lambda permission: (
            f"Somme remise : {euros(permission.montant_fixe)}. La somme rapportée "
            "revient à la part disponible sans répartition jusqu'à ce montant ; seul "
            "l'excédent est réparti (D. 424-4)."
        ),
    ),
    Operation(
        "transfert",
        "transfert/",
        sur_le_compte,
        "Transférer vers un autre établissement",
        regie_forms.TransfertForm,
        services.transferer_detenu,
        _message_transfert,
        objet_du_service=lambda cible: {"detenu": cible.compte.detenu},
        form_kwargs=lambda cible: {"detenu": cible.compte.detenu},
        bouton="Transférer",
        introduction="Le solde de chaque part est envoyé à la régie de destination, avec les "
        "autorisations D.422 en cours et les sommes bloquées (R. 332-29).",
        # The account now belongs to the destination: back to the list of accounts.
        suite=lambda compte, resultat: reverse("admin:regie_comptenominatif_changelist"),
    ),
    Operation(
        "liberation",
        "liberation/",
        sur_le_compte,
        "Liquider le compte à la libération",
        regie_forms.LiberationForm,
        services.liquider_a_la_liberation,
        ecriture("Compte liquidé à la libération"),
        form_kwargs=_du_compte,
        bouton="Liquider le compte",
        introduction="La part disponible et le pécule de libération sont remis à la personne, "
        "en numéraire ou par virement (D. 332-21) ; la part des parties civiles suit le sort "
        "que donnent les textes (D. 332-22, L. 332-2). Un virement est payé par un ordre "
        "validé par une seconde personne.",
    ),
    Operation(
        "contrepassation",
        "contrepassation/",
        sur_le_compte,
        "Contre-passer une écriture",
        regie_forms.ContrepassationForm,
        services.contrepasser,
        ecriture("Écriture contre-passée"),
        objet_du_service=lambda cible: {},
        form_kwargs=_du_compte,
        initial=_ecriture_choisie,
        bouton="Contre-passer",
        introduction="Une écriture n'est jamais modifiée ni supprimée : la contre-passation "
        "passe une nouvelle écriture, de sens contraire. Une recette soumise est reprise "
        "comme une recette négative du mois d'origine : le mois se termine comme si elle "
        "n'avait jamais été passée (spec 01, section 9).",
    ),
    Operation(
        "remboursement",
        "remboursement/",
        sur_le_compte,
        "Rembourser un débit",
        regie_forms.RemboursementForm,
        services.rembourser,
        ecriture("Remboursement enregistré"),
        avec_source=True,
        objet_du_service=lambda cible: {},
        form_kwargs=_du_compte,
        initial=_ecriture_choisie,
    ),
    *OPERATIONS_SITUATIONS,
]

OPERATIONS_D422 = [
    Operation(
        "magistrat",
        "magistrat/",
        sur_une_autorisation,
        "Enregistrer la décision du magistrat",
        regie_forms.DecisionMagistratForm,
        services.enregistrer_decision_magistrat,
        lambda autorisation, resultat, _arguments: (
            "Décision du magistrat enregistrée : "
            f"{resultat.get_magistrat_decision_display().lower()}."
        ),
        permission="regie.enregistrer_decision_magistrat",
        initial=lambda request: {"decision": DecisionMagistrat.FAVORABLE},
    ),
    Operation(
        "decision",
        "decision/",
        sur_une_autorisation,
        "Décision du chef d'établissement",
        regie_forms.DecisionD422Form,
        services.decider_d422,
        lambda autorisation, resultat, _arguments: (
            f"Demande D.422 n° {resultat.pk} {resultat.get_statut_display().lower()}."
        ),
        permission="regie.decider_d422",
        boutons=[
            ("decision", regie_forms.DecisionD422Form.AUTORISER, "Autoriser"),
            ("decision", regie_forms.DecisionD422Form.REFUSER, "Refuser"),
        ],
        introduction="Avant de décider, vérifiez l'existence de victimes ou de créanciers "
        "d'aliments et le respect des obligations envers eux ; refusez si la personne dispose "
        "déjà, ou disposera prochainement, des moyens de payer la dépense.",
    ),
    Operation(
        "subside",
        "subside/",
        sur_une_autorisation,
        "Encaisser le subside autorisé",
        regie_forms.SubsideD422Form,
        services.encaisser_subside_d422,
        ecriture("Subside D.422 encaissé"),
        avec_source=True,
        introduction="Jusqu'au montant autorisé, la somme est créditée en totalité sur la part "
        "disponible et bloquée pour la dépense ; l'excédent est une recette ordinaire.",
    ),
    Operation(
        "depense",
        "depense/",
        sur_une_autorisation,
        "Payer la dépense autorisée",
        regie_forms.DepenseD422Form,
        services.payer_depense_d422,
        ecriture("Dépense D.422 payée"),
        avec_source=True,
    ),
    Operation(
        "cloture",
        "cloture/",
        sur_une_autorisation,
        "Clôturer l'autorisation (reliquat)",
        regie_forms.ClotureD422Form,
        services.cloturer_d422,
        ecriture(lambda autorisation: f"Autorisation D.422 n° {autorisation.pk} clôturée"),
        bouton="Clôturer",
        introduction="Après la dépense, la somme encore bloquée (reliquat) est répartie ou "
        "restituée à l'émetteur, selon le choix fait dans la demande.",
    ),
    Operation(
        "renonciation",
        "renonciation/",
        sur_une_autorisation,
        "Renoncer à la demande D.422",
        regie_forms.RenonciationD422Form,
        services.renoncer_d422,
        ecriture(
            lambda autorisation: f"Renonciation à la demande n° {autorisation.pk} enregistrée"
        ),
        bouton="Enregistrer la renonciation",
    ),
]


def demande_d422(model_admin, request, detenus) -> HttpResponse:
    """The add page of a D.422 request: recorded by `services.demander_d422`."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    # The relatives who may be named as the sender: the detainee's when the page is
    # opened for one (from the account's page), else each detainee's, in groups (the
    # form then says if the relative picked is not one of the chosen detainee's).
    choisi = request.GET.get("detenu", "") if request.method == "GET" else ""
    choisis = detenus.filter(pk=choisi) if choisi.isdigit() else detenus

    def executer(form):
        autorisation = services.demander_d422(
            **form.arguments(), auteur=request.user, source=form.source
        )
        return (
            f"Demande D.422 n° {autorisation.pk} de {euros(autorisation.montant_autorise)} "
            "enregistrée. Elle doit être décidée par le chef d'établissement"
            + (
                ", après la décision du magistrat chargé de l'information."
                if autorisation.detenu.statut_penal != StatutPenal.CONDAMNE
                else "."
            ),
            url_autorisation(autorisation.pk),
        )

    return formulaire_operation(
        request,
        model_admin=model_admin,
        titre="Enregistrer une demande de subside exonéré (D.422)",
        permission="regie.add_autorisationd422",
        formulaire=regie_forms.DemandeD422Form,
        executer=executer,
        url_retour=reverse("admin:regie_autorisationd422_changelist"),
        objet="Nouvelle demande",
        form_kwargs={"detenus": detenus, "emetteurs": emetteurs_possibles(choisis)},
        initial={"detenu": request.GET.get("detenu")},
        introduction="Demande écrite de la personne détenue : montant, objet précis de la "
        "dépense, émetteur attendu et sort du reliquat (R. 332-3, circulaire du 19 mai 2009).",
    )
