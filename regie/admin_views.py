"""Custom views of the régie back-office, mounted by `regie.admin` under the admin site.

Each view:
1. finds its object through the ModelAdmin's scoped queryset (another establishment's
   object, or a missing one, is a 404);
2. checks the permission of the operation (403 otherwise);
3. only reads, for display (the account's page, its CSV export, the facts of a D.422
   request). The operations that move money are in `regie.admin_operations`.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.text import slugify

from socle.admin import contexte_admin
from socle.dates import aujourdhui
from socle.exports import reponse_csv
from socle.formats import de

from . import forms as regie_forms
from . import selectors, services
from .models import (
    PARTIES_DU_COMPTE,
    ZERO,
    AutorisationD422,
    CompteNominatif,
    CompteurMensuel,
    Ecriture,
    Partie,
    StatutD422,
    StatutPenal,
    StatutPermission,
    StatutSaisie,
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
        "remboursable": non_contrepassee and ecriture.nature in services.NATURES_REMBOURSABLES,
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
    jour = aujourdhui()
    compteurs = list(CompteurMensuel.objects.filter(compte=compte).order_by("-annee", "-mois")[:13])
    compteur_du_mois = next(
        (c for c in compteurs if (c.annee, c.mois) == (jour.year, jour.month)),
        None,
    )
    parametres = request.GET.copy()
    parametres.pop("page", None)
    contexte = contexte_admin(
        model_admin,
        request,
        title=f"Compte nominatif {de(f'{detenu.nom} {detenu.prenoms}')}",
        subtitle=f"Écrou n° {detenu.numero_ecrou} – {detenu.etablissement.nom}",
        original=compte,
        compte=compte,
        detenu=detenu,
        ecarts=ecarts,
        compteur_du_mois=compteur_du_mois,
        cumul_du_mois=compteur_du_mois.cumul if compteur_du_mois else ZERO,
        mois_courant=jour,
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
        ordres=compte.ordres_virement.order_by("-prepare_le", "-pk"),
        # Issue 12: the écrou's situation and its measures.
        sur_livret_a=services.pecule_sur_livret_a(compte),
        saisies_en_cours=compte.saisies.filter(statut=StatutSaisie.EN_COURS),
        prescription_jap=services.prescription_jap_en_vigueur(detenu, jour),
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


def export_releve(model_admin, request, object_id) -> HttpResponse:
    """The filtered ledger as CSV for Excel (`socle.exports`: semicolons, UTF-8 with BOM,
    decimal comma, every text cell neutralised against formulas)."""
    compte = _compte_visible(model_admin, request, object_id)
    if not request.user.has_perm("regie.exporter_releve"):
        raise PermissionDenied
    filtre = _filtre(request)
    if filtre.is_bound and not filtre.is_valid():
        messages.error(request, "Les filtres du relevé sont invalides : rien n'a été exporté.")
        return HttpResponseRedirect(url_compte(compte.pk))
    detenu = compte.detenu
    nom_fichier = slugify(f"releve-{detenu.numero_ecrou}-{detenu.nom}-{aujourdhui():%Y%m%d}")

    def lignes():
        for ecriture in releve(compte, filtre).order_by("date_operation", "cree_le", "pk"):
            v = variations(ecriture)
            yield [
                ecriture.date_operation,
                ecriture.cree_le,
                ecriture.pk,
                ecriture.get_nature_display(),
                ecriture.motif,
                ecriture.piece,
                ecriture.source,
                nom_auteur(ecriture),
                ecriture.etablissement.nom,
                v["parties_civiles"],
                v["pecule_liberation"],
                v["part_disponible"],
                v["bloque"],
                ecriture.montant,
            ]

    return reponse_csv(nom_fichier, ENTETES_CSV, lignes())


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
