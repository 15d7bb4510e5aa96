"""Custom views of the régie back-office, mounted by `regie.admin` under the admin site.

Each view:
1. finds its object through the ModelAdmin's scoped queryset (another establishment's
   object, or a missing one, is a 404);
2. checks the permission of the operation (403 otherwise);
3. calls exactly one function of `regie.services`. A `ErreurMetier` is shown as a form
   error, in French, and nothing is written; a token already booked
   (`EcritureDejaPassee`) is reported and nothing is booked twice.
No rule of the régie lives here: only reads for display and calls to services.
"""

from __future__ import annotations

import csv
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from socle.admin import contexte_admin
from socle.erreurs import ErreurMetier
from socle.formats import euros, montant_csv

from . import forms as regie_forms
from . import selectors, services
from .exceptions import EcritureDejaPassee
from .models import (
    NOMS_PARTIES,
    PARTIES_DU_COMPTE,
    ZERO,
    AutorisationD422,
    CompteNominatif,
    CompteurMensuel,
    DecisionMagistrat,
    Ecriture,
    NatureEcriture,
    Partie,
    PermissionSortie,
    StatutD422,
    StatutPenal,
    StatutPermission,
)

PAR_PAGE = 50


def nom_auteur(ecriture: Ecriture) -> str:
    if ecriture.auteur_id is None:
        return f"Traitement automatique ({ecriture.auteur_systeme})"
    return ecriture.auteur.get_full_name() or ecriture.auteur.get_username()


def url_compte(compte_id: int) -> str:
    return reverse("admin:regie_comptenominatif_change", args=[compte_id])


def url_autorisation(autorisation_id: int) -> str:
    return reverse("admin:regie_autorisationd422_change", args=[autorisation_id])


# --- Ledger presentation --------------------------------------------------------------


def variations(ecriture: Ecriture) -> dict:
    """What one entry changed on each part of the account, from its (prefetched) lines."""
    parts = {partie: ZERO for partie in PARTIES_DU_COMPTE}
    bloque = ZERO
    contreparties = []
    for ligne in ecriture.lignes.all():
        if ligne.partie == Partie.CONTREPARTIE:
            contreparties.append(ligne.get_contrepartie_display())
            continue
        parts[ligne.partie] += ligne.montant
        if ligne.bloque_d422_id is not None:
            bloque += ligne.montant
    return {
        "parties_civiles": parts[Partie.PARTIES_CIVILES],
        "pecule_liberation": parts[Partie.PECULE_LIBERATION],
        "part_disponible": parts[Partie.PART_DISPONIBLE],
        "bloque": bloque,
        "contreparties": contreparties,
    }


def ligne_releve(ecriture: Ecriture) -> dict:
    """One row of the ledger page. Which actions to offer is only a hint: the services
    decide."""
    non_contrepassee = ecriture.numero_contrepassation is None
    return {
        "ecriture": ecriture,
        "auteur": nom_auteur(ecriture),
        "contrepassable": non_contrepassee and ecriture.nature in services.NATURES_CONTREPASSABLES,
        "remboursable": non_contrepassee and ecriture.nature in services.CONTREPARTIE_DES_DEBITS,
        **variations(ecriture),
    }


def releve(compte: CompteNominatif, filtre: regie_forms.FiltreReleveForm):
    """The account's entries, filtered, with what the ledger page and the export show."""
    ecritures = (
        Ecriture.objects.filter(compte=compte)
        .select_related("auteur", "etablissement", "autorisation_d422")
        .prefetch_related("lignes")
        .annotate(numero_contrepassation=F("contrepassee_par__id"))
    )
    return filtre.filtrer(ecritures)


def _filtre(request) -> regie_forms.FiltreReleveForm:
    donnees = {
        cle: request.GET[cle] for cle in ("date_du", "date_au", "nature") if request.GET.get(cle)
    }
    return regie_forms.FiltreReleveForm(donnees)


def _compte_visible(model_admin, request, object_id) -> CompteNominatif:
    """The account if it is within the user's establishments (404 otherwise)."""
    compte = model_admin.get_object(request, str(object_id))
    if not model_admin.has_view_permission(request, compte):
        raise PermissionDenied
    return compte


def page_compte(model_admin, request, object_id) -> TemplateResponse:
    """The read-only page of an account: balances, counters, D.422 sums, ledger."""
    compte = _compte_visible(model_admin, request, object_id)
    ecarts = selectors.ecarts(compte)  # refreshes the balances from the database
    detenu = compte.detenu
    filtre = _filtre(request)
    ecritures = releve(compte, filtre).order_by("-date_operation", "-cree_le", "-pk")
    page = Paginator(ecritures, PAR_PAGE).get_page(request.GET.get("page"))
    aujourdhui = timezone.localdate()
    compteurs = list(CompteurMensuel.objects.filter(compte=compte).order_by("-annee", "-mois")[:13])
    compteur_du_mois = next(
        (c for c in compteurs if (c.annee, c.mois) == (aujourdhui.year, aujourdhui.month)),
        None,
    )
    parametres = request.GET.copy()
    parametres.pop("page", None)
    contexte = contexte_admin(
        model_admin,
        request,
        title=f"Compte nominatif de {detenu.nom} {detenu.prenoms}",
        subtitle=f"Écrou n° {detenu.numero_ecrou} – {detenu.etablissement.nom}",
        original=compte,
        compte=compte,
        detenu=detenu,
        ecarts=ecarts,
        compteur_du_mois=compteur_du_mois,
        cumul_du_mois=compteur_du_mois.cumul if compteur_du_mois else ZERO,
        mois_courant=aujourdhui,
        compteurs_precedents=[c for c in compteurs if c is not compteur_du_mois],
        sommes_bloquees=selectors.sommes_bloquees(compte),
        autorisations_en_cours=selectors.autorisations_en_cours(compte).order_by("pk"),
        permissions_en_cours=compte.permissions_sortie.filter(
            statut__in=[StatutPermission.FIXEE, StatutPermission.REMISE]
        ).order_by("date_sortie", "pk"),
        filtre=filtre,
        page=page,
        lignes=[ligne_releve(e) for e in page.object_list],
        parametres=parametres.urlencode(),
        libere=detenu.libere_le is not None,
    )
    return TemplateResponse(request, "admin/regie/comptenominatif/compte.html", contexte)


ENTETES_CSV = [
    "Date d'opération",
    "Enregistrée le",
    "N° d'écriture",
    "Nature",
    "Motif",
    "Pièce justificative",
    "Source",
    "Auteur",
    "Régie",
    "Parties civiles (€)",
    "Pécule de libération (€)",
    "Part disponible (€)",
    "Dont sommes bloquées D.422 (€)",
    "Montant (€)",
]


def _texte_csv(valeur: str) -> str:
    """Neutralise spreadsheet formulas in free text (CSV injection)."""
    if valeur and valeur[0] in "=+-@\t\r":
        return "'" + valeur
    return valeur


def export_releve(model_admin, request, object_id) -> HttpResponse:
    """The filtered ledger as CSV for Excel: semicolons, UTF-8 with BOM, decimal comma."""
    compte = _compte_visible(model_admin, request, object_id)
    if not request.user.has_perm("regie.exporter_releve"):
        raise PermissionDenied
    filtre = _filtre(request)
    if filtre.is_bound and not filtre.is_valid():
        messages.error(request, "Les filtres du relevé sont invalides : rien n'a été exporté.")
        return HttpResponseRedirect(url_compte(compte.pk))
    detenu = compte.detenu
    nom_fichier = slugify(
        f"releve-{detenu.numero_ecrou}-{detenu.nom}-{timezone.localdate():%Y%m%d}"
    )
    reponse = HttpResponse(content_type="text/csv; charset=utf-8")
    reponse["Content-Disposition"] = f'attachment; filename="{nom_fichier}.csv"'
    reponse.write("\ufeff")
    writer = csv.writer(reponse, delimiter=";", lineterminator="\r\n")
    writer.writerow(ENTETES_CSV)
    for ecriture in releve(compte, filtre).order_by("date_operation", "cree_le", "pk"):
        v = variations(ecriture)
        writer.writerow(
            [
                f"{ecriture.date_operation:%d/%m/%Y}",
                f"{timezone.localtime(ecriture.cree_le):%d/%m/%Y %H:%M}",
                ecriture.pk,
                ecriture.get_nature_display(),
                _texte_csv(ecriture.motif),
                _texte_csv(ecriture.piece),
                _texte_csv(ecriture.source),
                _texte_csv(nom_auteur(ecriture)),
                ecriture.etablissement.nom,
                montant_csv(v["parties_civiles"]),
                montant_csv(v["pecule_liberation"]),
                montant_csv(v["part_disponible"]),
                montant_csv(v["bloque"]),
                montant_csv(ecriture.montant),
            ]
        )
    return reponse


# --- The generic form view ------------------------------------------------------------


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


def _message_ecriture(libelle: str, ecriture: Ecriture | None) -> str:
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


# --- Account movements ----------------------------------------------------------------


def _operation_compte(
    model_admin, request, compte, *, titre, permission, formulaire, executer, **options
) -> HttpResponse:
    return formulaire_operation(
        request,
        model_admin=model_admin,
        titre=titre,
        permission=permission,
        formulaire=formulaire,
        executer=lambda form: executer(compte, form),
        url_retour=url_compte(compte.pk),
        objet=compte,
        compte=compte,
        encart="admin/regie/comptenominatif/_soldes.html",
        **options,
    )


def recette(model_admin, request, object_id):
    def executer(compte, form):
        donnees = form.cleaned_data
        commun = {
            "compte": compte,
            "montant": donnees["montant"],
            "source": form.source,
            "motif": donnees["motif"],
            "auteur": request.user,
            "date_operation": donnees["date_operation"],
            "piece": donnees["piece"],
        }
        if donnees["nature"] == NatureEcriture.CAPITAL_RENTE_AT:
            ecriture = services.crediter_capital_rente_accident_travail(**commun)
        else:
            ecriture = services.encaisser_recette(
                nature=donnees["nature"], emetteur=donnees["emetteur"], **commun
            )
        return _message_ecriture("Recette enregistrée", ecriture), None

    return _operation_compte(
        model_admin,
        request,
        _compte_visible(model_admin, request, object_id),
        titre="Enregistrer une recette",
        permission="regie.passer_ecriture",
        formulaire=regie_forms.RecetteForm,
        executer=executer,
        introduction="Les recettes soumises sont réparties entre les trois parts selon le "
        "cumul du mois ; le capital d'une rente d'accident du travail va en totalité au "
        "pécule de libération.",
    )


def debit(model_admin, request, object_id):
    def executer(compte, form):
        donnees = form.cleaned_data
        ecriture = services.debiter_part_disponible(
            compte=compte,
            montant=donnees["montant"],
            nature=donnees["nature"],
            source=form.source,
            motif=donnees["motif"],
            auteur=request.user,
            date_operation=donnees["date_operation"],
            piece=donnees["piece"],
        )
        return _message_ecriture("Débit enregistré", ecriture), None

    return _operation_compte(
        model_admin,
        request,
        _compte_visible(model_admin, request, object_id),
        titre="Enregistrer un débit de la part disponible",
        permission="regie.passer_ecriture",
        formulaire=regie_forms.DebitForm,
        executer=executer,
    )


def parties_civiles(model_admin, request, object_id):
    def executer(compte, form):
        donnees = form.cleaned_data
        ecriture = services.payer_parties_civiles(
            compte=compte,
            montant=donnees["montant"],
            beneficiaire=donnees["beneficiaire"],
            source=form.source,
            motif=donnees["motif"],
            auteur=request.user,
            date_operation=donnees["date_operation"],
            piece=donnees["piece"],
        )
        return _message_ecriture("Paiement aux parties civiles enregistré", ecriture), None

    return _operation_compte(
        model_admin,
        request,
        _compte_visible(model_admin, request, object_id),
        titre="Payer les parties civiles",
        permission="regie.passer_ecriture",
        formulaire=regie_forms.PaiementPartiesCivilesForm,
        executer=executer,
        introduction="Paiement sur la part des parties civiles, à la demande du procureur "
        "de la République (D. 332-11) ; les créanciers d'aliments sont payés en premier.",
    )


def deblocage_pecule(model_admin, request, object_id):
    def executer(compte, form):
        donnees = form.cleaned_data
        ecriture = services.debloquer_pecule_liberation(
            compte=compte,
            montant=donnees["montant"],
            source=form.source,
            motif=donnees["motif"],
            auteur=request.user,
            date_operation=donnees["date_operation"],
            piece=donnees["piece"],
        )
        return _message_ecriture("Déblocage du pécule enregistré", ecriture), None

    return _operation_compte(
        model_admin,
        request,
        _compte_visible(model_admin, request, object_id),
        titre="Débloquer le pécule de libération (D. 424-3)",
        permission="regie.decider_deblocage_pecule",
        formulaire=regie_forms.DeblocagePeculeForm,
        executer=executer,
    )


def fixer_permission(model_admin, request, object_id):
    def executer(compte, form):
        donnees = form.cleaned_data
        permission = services.fixer_permission_sortie(
            compte=compte,
            montant=donnees["montant"],
            date_sortie=donnees["date_sortie"],
            auteur=request.user,
            source=f"admin:{donnees['jeton']}",
        )
        return (
            f"Somme de {euros(permission.montant_fixe)} fixée pour la permission de sortir "
            f"du {permission.date_sortie:%d/%m/%Y}.",
            None,
        )

    return _operation_compte(
        model_admin,
        request,
        _compte_visible(model_admin, request, object_id),
        titre="Fixer la somme d'une permission de sortir",
        permission="regie.fixer_permission_sortie",
        formulaire=regie_forms.FixerPermissionForm,
        executer=executer,
        bouton="Fixer la somme",
    )


def _permission_du_compte(compte: CompteNominatif, permission_id: int) -> PermissionSortie:
    return get_object_or_404(PermissionSortie, pk=permission_id, compte=compte)


def remise_permission(model_admin, request, object_id, permission_id):
    def executer(compte, form):
        ecriture = services.remettre_somme_permission(
            permission=permission,
            auteur=request.user,
            date_operation=form.cleaned_data["date_operation"],
        )
        return _message_ecriture("Somme remise pour la permission de sortir", ecriture), None

    compte = _compte_visible(model_admin, request, object_id)
    permission = _permission_du_compte(compte, permission_id)
    return _operation_compte(
        model_admin,
        request,
        compte,
        titre=f"Remettre la somme de la permission du {permission.date_sortie:%d/%m/%Y}",
        permission="regie.passer_ecriture",
        formulaire=regie_forms.RemisePermissionForm,
        executer=executer,
        bouton=f"Remettre {euros(permission.montant_fixe)}",
    )


def retour_permission(model_admin, request, object_id, permission_id):
    def executer(compte, form):
        ecriture = services.enregistrer_retour_permission(
            permission=permission,
            montant_rapporte=form.cleaned_data["montant_rapporte"],
            auteur=request.user,
            date_operation=form.cleaned_data["date_operation"],
        )
        return _message_ecriture("Retour de permission enregistré", ecriture), None

    compte = _compte_visible(model_admin, request, object_id)
    permission = _permission_du_compte(compte, permission_id)
    return _operation_compte(
        model_admin,
        request,
        compte,
        titre=f"Retour de la permission du {permission.date_sortie:%d/%m/%Y}",
        permission="regie.passer_ecriture",
        formulaire=regie_forms.RetourPermissionForm,
        executer=executer,
        introduction=f"Somme remise : {euros(permission.montant_fixe)}. La somme rapportée "
        "revient à la part disponible sans répartition jusqu'à ce montant ; seul "
        "l'excédent est réparti (D. 424-4).",
    )


def transfert(model_admin, request, object_id):
    def executer(compte, form):
        donnees = form.cleaned_data
        sortie, _entree = services.transferer_detenu(
            detenu=compte.detenu,
            vers=donnees["vers"],
            nouveau_numero_ecrou=donnees["nouveau_numero_ecrou"],
            auteur=request.user,
            date_operation=donnees["date_operation"],
        )
        message = (
            f"{compte.detenu.nom} {compte.detenu.prenoms} a été transféré(e) vers "
            f"{donnees['vers'].nom}"
        )
        if sortie is not None:
            message += f" avec un solde de {euros(sortie.montant)}"
        # The account now belongs to the destination: back to the list of accounts.
        return message + ".", reverse("admin:regie_comptenominatif_changelist")

    compte = _compte_visible(model_admin, request, object_id)
    return _operation_compte(
        model_admin,
        request,
        compte,
        titre="Transférer vers un autre établissement",
        permission="regie.passer_ecriture",
        formulaire=regie_forms.TransfertForm,
        executer=executer,
        form_kwargs={"detenu": compte.detenu},
        bouton="Transférer",
        introduction="Le solde de chaque part est envoyé à la régie de destination, avec les "
        "autorisations D.422 en cours et les sommes bloquées (R. 332-29).",
    )


def liberation(model_admin, request, object_id):
    def executer(compte, form):
        donnees = form.cleaned_data
        ecriture = services.liquider_a_la_liberation(
            compte=compte,
            auteur=request.user,
            date_liberation=donnees["date_liberation"],
            sort_parties_civiles=donnees["sort_parties_civiles"],
        )
        return _message_ecriture("Compte liquidé à la libération", ecriture), None

    return _operation_compte(
        model_admin,
        request,
        _compte_visible(model_admin, request, object_id),
        titre="Liquider le compte à la libération",
        permission="regie.passer_ecriture",
        formulaire=regie_forms.LiberationForm,
        executer=executer,
        bouton="Liquider le compte",
        introduction="La part disponible et le pécule de libération sont remis à la personne "
        "(D. 332-21).",
    )


def contrepassation(model_admin, request, object_id):
    def executer(compte, form):
        ecriture = services.contrepasser(
            ecriture=form.cleaned_data["ecriture"],
            motif=form.cleaned_data["motif"],
            auteur=request.user,
        )
        return _message_ecriture("Écriture contre-passée", ecriture), None

    compte = _compte_visible(model_admin, request, object_id)
    return _operation_compte(
        model_admin,
        request,
        compte,
        titre="Contre-passer une écriture",
        permission="regie.passer_ecriture",
        formulaire=regie_forms.ContrepassationForm,
        executer=executer,
        form_kwargs={"compte": compte},
        initial={"ecriture": request.GET.get("ecriture")},
        bouton="Contre-passer",
        introduction="Une écriture n'est jamais modifiée ni supprimée : la contre-passation "
        "passe une nouvelle écriture, de sens contraire.",
    )


def remboursement(model_admin, request, object_id):
    def executer(compte, form):
        donnees = form.cleaned_data
        ecriture = services.rembourser(
            ecriture=donnees["ecriture"],
            montant=donnees["montant"],
            source=form.source,
            motif=donnees["motif"],
            auteur=request.user,
            date_operation=donnees["date_operation"],
        )
        return _message_ecriture("Remboursement enregistré", ecriture), None

    compte = _compte_visible(model_admin, request, object_id)
    return _operation_compte(
        model_admin,
        request,
        compte,
        titre="Rembourser un débit",
        permission="regie.passer_ecriture",
        formulaire=regie_forms.RemboursementForm,
        executer=executer,
        form_kwargs={"compte": compte},
        initial={"ecriture": request.GET.get("ecriture")},
    )


# --- D.422 ----------------------------------------------------------------------------


def faits_d422(autorisation: AutorisationD422) -> dict:
    """What the decision-maker must look at (spec section 5.2), for display."""
    compte = CompteNominatif.objects.get(detenu_id=autorisation.detenu_id)
    return {
        "autorisation": autorisation,
        "detenu": autorisation.detenu,
        "compte": compte,
        "prevenu": autorisation.detenu.statut_penal != StatutPenal.CONDAMNE,
        "montant_recu": services.montant_recu_d422(autorisation),
        "montant_bloque": services.montant_bloque_d422(autorisation),
        "autres_demandes": AutorisationD422.objects.filter(detenu_id=autorisation.detenu_id)
        .exclude(pk=autorisation.pk)
        .order_by("-enregistree_le"),
        "evenements": autorisation.evenements.select_related("auteur"),
    }


def demande_d422(model_admin, request, detenus) -> HttpResponse:
    """The add page of a D.422 request: recorded by `services.demander_d422`."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied

    def executer(form):
        donnees = form.cleaned_data
        autorisation = services.demander_d422(
            detenu=donnees["detenu"],
            montant=donnees["montant"],
            objet=donnees["objet"],
            emetteur_attendu=donnees["emetteur_attendu"],
            emetteur_ref=donnees["emetteur_ref"],
            reliquat=donnees["reliquat"],
            date_demande=donnees["date_demande"],
            auteur=request.user,
            source=f"admin:{donnees['jeton']}",
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
        form_kwargs={"detenus": detenus},
        initial={"detenu": request.GET.get("detenu")},
        introduction="Demande écrite de la personne détenue : montant, objet précis de la "
        "dépense, émetteur attendu et sort du reliquat (R. 332-3, circulaire du 19 mai 2009).",
    )


def _operation_d422(
    model_admin, request, object_id, *, titre, permission, formulaire, executer, **options
) -> HttpResponse:
    autorisation = model_admin.get_object(request, str(object_id))
    if not model_admin.has_view_permission(request, autorisation):
        raise PermissionDenied
    faits = faits_d422(autorisation)
    return formulaire_operation(
        request,
        model_admin=model_admin,
        titre=titre,
        permission=permission,
        formulaire=formulaire,
        executer=lambda form: executer(autorisation, form),
        url_retour=url_autorisation(autorisation.pk),
        objet=autorisation,
        compte=faits["compte"],
        encart="admin/regie/autorisationd422/_faits.html",
        contexte=faits,
        **options,
    )


def decision_magistrat(model_admin, request, object_id):
    def executer(autorisation, form):
        donnees = form.cleaned_data
        autorisation = services.enregistrer_decision_magistrat(
            autorisation=autorisation,
            decision=donnees["decision"],
            magistrat_nom=donnees["magistrat_nom"],
            reference=donnees["reference"],
            date_decision=donnees["date_decision"],
            auteur=request.user,
        )
        return (
            "Décision du magistrat enregistrée : "
            f"{autorisation.get_magistrat_decision_display().lower()}.",
            None,
        )

    return _operation_d422(
        model_admin,
        request,
        object_id,
        titre="Enregistrer la décision du magistrat",
        permission="regie.enregistrer_decision_magistrat",
        formulaire=regie_forms.DecisionMagistratForm,
        executer=executer,
        initial={"decision": DecisionMagistrat.FAVORABLE},
    )


def decision_d422(model_admin, request, object_id):
    def executer(autorisation, form):
        autorisation = services.decider_d422(
            autorisation=autorisation,
            accorder=form.accorder,
            motif=form.cleaned_data["motif"],
            auteur=request.user,
        )
        return (
            f"Demande D.422 n° {autorisation.pk} {autorisation.get_statut_display().lower()}.",
            None,
        )

    return _operation_d422(
        model_admin,
        request,
        object_id,
        titre="Décision du chef d'établissement",
        permission="regie.decider_d422",
        formulaire=regie_forms.DecisionD422Form,
        executer=executer,
        boutons=[
            ("decision", regie_forms.DecisionD422Form.AUTORISER, "Autoriser"),
            ("decision", regie_forms.DecisionD422Form.REFUSER, "Refuser"),
        ],
        introduction="Avant de décider, vérifiez l'existence de victimes ou de créanciers "
        "d'aliments et le respect des obligations envers eux ; refusez si la personne dispose "
        "déjà, ou disposera prochainement, des moyens de payer la dépense.",
    )


def subside_d422(model_admin, request, object_id):
    def executer(autorisation, form):
        donnees = form.cleaned_data
        ecriture = services.encaisser_subside_d422(
            autorisation=autorisation,
            montant=donnees["montant"],
            source=form.source,
            motif=donnees["motif"],
            auteur=request.user,
            date_operation=donnees["date_operation"],
            emetteur=donnees["emetteur"],
        )
        return _message_ecriture("Subside D.422 encaissé", ecriture), None

    return _operation_d422(
        model_admin,
        request,
        object_id,
        titre="Encaisser le subside autorisé",
        permission="regie.passer_ecriture",
        formulaire=regie_forms.SubsideD422Form,
        executer=executer,
        introduction="Jusqu'au montant autorisé, la somme est créditée en totalité sur la part "
        "disponible et bloquée pour la dépense ; l'excédent est une recette ordinaire.",
    )


def depense_d422(model_admin, request, object_id):
    def executer(autorisation, form):
        donnees = form.cleaned_data
        ecriture = services.payer_depense_d422(
            autorisation=autorisation,
            montant=donnees["montant"],
            source=form.source,
            motif=donnees["motif"],
            auteur=request.user,
            date_operation=donnees["date_operation"],
            piece=donnees["piece"],
        )
        return _message_ecriture("Dépense D.422 payée", ecriture), None

    return _operation_d422(
        model_admin,
        request,
        object_id,
        titre="Payer la dépense autorisée",
        permission="regie.passer_ecriture",
        formulaire=regie_forms.DepenseD422Form,
        executer=executer,
    )


def cloture_d422(model_admin, request, object_id):
    def executer(autorisation, form):
        ecriture = services.cloturer_d422(
            autorisation=autorisation,
            auteur=request.user,
            date_operation=form.cleaned_data["date_operation"],
        )
        return _message_ecriture(
            f"Autorisation D.422 n° {autorisation.pk} clôturée", ecriture
        ), None

    return _operation_d422(
        model_admin,
        request,
        object_id,
        titre="Clôturer l'autorisation (reliquat)",
        permission="regie.passer_ecriture",
        formulaire=regie_forms.ClotureD422Form,
        executer=executer,
        bouton="Clôturer",
        introduction="Après la dépense, la somme encore bloquée (reliquat) est répartie ou "
        "restituée à l'émetteur, selon le choix fait dans la demande.",
    )


def renonciation_d422(model_admin, request, object_id):
    def executer(autorisation, form):
        donnees = form.cleaned_data
        ecriture = services.renoncer_d422(
            autorisation=autorisation,
            auteur=request.user,
            motif=donnees["motif"],
            choix_reliquat=donnees["choix_reliquat"] or None,
        )
        return _message_ecriture(
            f"Renonciation à la demande n° {autorisation.pk} enregistrée", ecriture
        ), None

    return _operation_d422(
        model_admin,
        request,
        object_id,
        titre="Renoncer à la demande D.422",
        permission="regie.passer_ecriture",
        formulaire=regie_forms.RenonciationD422Form,
        executer=executer,
        bouton="Enregistrer la renonciation",
    )


def actions_d422(request, autorisation: AutorisationD422) -> list[tuple[str, str]]:
    """The buttons shown on a D.422 page: (label, url), according to status and rights.
    The services check everything again."""
    utilisateur = request.user
    base = "admin:regie_autorisationd422_"
    actions = []
    en_cours = autorisation.statut in (StatutD422.DEMANDEE, StatutD422.AUTORISEE)
    if autorisation.statut == StatutD422.DEMANDEE:
        if (
            autorisation.detenu.statut_penal != StatutPenal.CONDAMNE
            and not autorisation.magistrat_decision
            and utilisateur.has_perm("regie.enregistrer_decision_magistrat")
        ):
            actions.append(("Enregistrer la décision du magistrat", "magistrat"))
        if utilisateur.has_perm("regie.decider_d422"):
            actions.append(("Autoriser ou refuser", "decision"))
    if autorisation.statut == StatutD422.AUTORISEE and utilisateur.has_perm(
        "regie.passer_ecriture"
    ):
        actions += [
            ("Encaisser le subside", "subside"),
            ("Payer la dépense", "depense"),
            ("Clôturer (reliquat)", "cloture"),
        ]
    if en_cours and utilisateur.has_perm("regie.passer_ecriture"):
        actions.append(("Renoncer", "renonciation"))
    return [(libelle, reverse(base + nom, args=[autorisation.pk])) for libelle, nom in actions]
