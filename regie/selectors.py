"""Reads of the régie: what a staff member may see, and balances recomputed from the ledger."""

import datetime
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from .models import (
    PARTIES_DU_COMPTE,
    ZERO,
    AutorisationD422,
    CompteNominatif,
    CompteurMensuel,
    Detenu,
    Ecriture,
    Etablissement,
    LigneEcriture,
    RetenueEmetteur,
    StatutD422,
)


def etablissements_geres(utilisateur) -> QuerySet[Etablissement]:
    """The establishments a staff member is attached to (all of them for a superuser)."""
    if not utilisateur.is_authenticated or not utilisateur.is_active:
        return Etablissement.objects.none()
    if utilisateur.is_superuser:
        return Etablissement.objects.all()
    if not utilisateur.is_staff:
        return Etablissement.objects.none()
    return Etablissement.objects.filter(affectations__utilisateur=utilisateur)


def soldes_recalcules(compte: CompteNominatif) -> dict[str, Decimal]:
    """The balances as the sum of the ledger lines, to check the stored ones."""
    lignes = LigneEcriture.objects.filter(ecriture__compte=compte)
    sommes = {
        row["partie"]: row["total"]
        for row in lignes.values("partie").annotate(total=Sum("montant"))
    }
    soldes = {partie: sommes.get(partie, ZERO) for partie in PARTIES_DU_COMPTE}
    soldes["part_disponible_bloquee"] = (
        lignes.filter(bloque_d422__isnull=False).aggregate(total=Sum("montant"))["total"] or ZERO
    )
    return soldes


def cumul_recalcule(compte: CompteNominatif, annee: int, mois: int) -> Decimal:
    """The month's counter as the sum of the subject amounts of its entries."""
    return (
        Ecriture.objects.filter(
            compte=compte, mois_repartition=datetime.date(annee, mois, 1)
        ).aggregate(total=Sum("montant_soumis"))["total"]
        or ZERO
    )


def ecarts(compte: CompteNominatif) -> list[str]:
    """Every difference between the stored balances/counters and the ledger (empty if none)."""
    compte.refresh_from_db()
    problemes = []
    for champ, valeur in soldes_recalcules(compte).items():
        if getattr(compte, champ) != valeur:
            problemes.append(f"{champ}: stocké {getattr(compte, champ)}, écritures {valeur}")
    for compteur in CompteurMensuel.objects.filter(compte=compte):
        attendu = cumul_recalcule(compte, compteur.annee, compteur.mois)
        if compteur.cumul != attendu:
            problemes.append(
                f"compteur {compteur.mois:02d}/{compteur.annee}: stocké {compteur.cumul}, "
                f"écritures {attendu}"
            )
    desequilibrees = (
        Ecriture.objects.filter(compte=compte)
        .annotate(solde=Sum("lignes__montant"))
        .filter(~Q(solde=0))
        .values_list("pk", flat=True)
    )
    problemes += [f"écriture {pk} déséquilibrée" for pk in desequilibrees]
    return problemes


def sommes_bloquees(compte: CompteNominatif) -> list[dict]:
    """Blocked D.422 sums of the account, per authorisation."""
    rows = (
        LigneEcriture.objects.filter(ecriture__compte=compte, bloque_d422__isnull=False)
        .values("bloque_d422")
        .annotate(total=Sum("montant"))
        .filter(total__gt=0)
    )
    autorisations = AutorisationD422.objects.in_bulk([row["bloque_d422"] for row in rows])
    return [
        {"autorisation": autorisations[row["bloque_d422"]], "montant": row["total"]} for row in rows
    ]


def autorisations_en_cours(compte: CompteNominatif) -> QuerySet[AutorisationD422]:
    return AutorisationD422.objects.filter(
        detenu_id=compte.detenu_id, statut__in=[StatutD422.DEMANDEE, StatutD422.AUTORISEE]
    )


def motif_retenue_credit(detenu: Detenu, emetteur: str) -> str:
    """Why a credit from `emetteur` to `detenu` must be held for the régisseur (the chef's
    vigilance decision, `regie.services.decider_alerte`), or "" when it may be credited.
    The payments side asks it before crediting a relative's transfer."""
    if not emetteur:
        return ""
    retenue = (
        RetenueEmetteur.objects.filter(
            etablissement_id=detenu.etablissement_id, emetteur=emetteur, levee_le__isnull=True
        )
        .filter(Q(detenu=detenu) | Q(detenu__isnull=True))
        .order_by("-decidee_le")
        .first()
    )
    if retenue is None:
        return ""
    return (
        "Crédits de cet émetteur retenus par décision du chef d'établissement du "
        f"{timezone.localdate(retenue.decidee_le):%d/%m/%Y} (vigilance, D. 339) : à examiner "
        "avant tout crédit."
    )
