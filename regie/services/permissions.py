"""Permissions de sortir (D. 424-4): the sum set by the head, handed out, brought back."""

from __future__ import annotations

import datetime

from django.db import transaction

from socle.dates import aujourdhui
from socle.formats import euros

from ..exceptions import (
    OperationInterdite,
    SoldeInsuffisant,
)
from ..models import (
    ZERO,
    CompteNominatif,
    Contrepartie,
    Ecriture,
    NatureEcriture,
    Partie,
    PermissionSortie,
    StatutPermission,
)
from .ecritures import (
    Ligne,
    _compte_actif,
    _cumul_du_mois,
    _lignes_repartition,
    _passer,
    _premier_du_mois,
    _source_libre,
    _verrouiller,
    montant_valide,
    verifier_droits,
)
from .vigilance import examiner_recette


@transaction.atomic
def fixer_permission_sortie(
    *,
    compte: CompteNominatif,
    montant,
    date_sortie: datetime.date,
    auteur,
    source: str | None = None,
) -> PermissionSortie:
    """The head sets the cash handed out; refused if the part disponible does not hold it.
    `source` (a form token) makes a second submit of the same form harmless."""
    montant = montant_valide(montant)
    compte = _verrouiller(compte.pk)
    verifier_droits(
        auteur,
        compte.detenu.etablissement,
        "regie.fixer_permission_sortie",
        "fixer la somme d'une permission de sortir",
    )
    _compte_actif(compte)
    if montant > compte.part_disponible_libre:
        raise SoldeInsuffisant(
            "La permission ne peut pas être accordée pour cette somme : la part disponible "
            f"ne contient que {euros(compte.part_disponible_libre)}.",
            partie=Partie.PART_DISPONIBLE,
            disponible=compte.part_disponible_libre,
        )
    _source_libre(PermissionSortie, source, "Cette permission a déjà été enregistrée")
    return PermissionSortie.objects.create(
        compte=compte,
        montant_fixe=montant,
        date_sortie=date_sortie,
        fixee_par=auteur,
        source=source,
    )


def _verrouiller_permission(
    permission: PermissionSortie,
) -> tuple[PermissionSortie, CompteNominatif]:
    compte = _verrouiller(permission.compte_id)
    return PermissionSortie.objects.select_for_update().get(pk=permission.pk), compte


def _source_etape(permission: PermissionSortie, etape: str) -> str:
    """The entry's source: `permission:<pk>:<étape>`, then `…:2`, `…:3` when the step is
    booked again after the reversal of the previous one (the permission row is locked)."""
    base = f"permission:{permission.pk}:{etape}"
    deja = Ecriture.objects.filter(source__startswith=base).count()
    return base if not deja else f"{base}:{deja + 1}"


@transaction.atomic
def remettre_somme_permission(
    *, permission: PermissionSortie, auteur, date_operation: datetime.date | None = None
) -> Ecriture:
    permission, compte = _verrouiller_permission(permission)
    verifier_droits(
        auteur, compte.detenu.etablissement, "regie.passer_ecriture", "passer une écriture"
    )
    if permission.statut != StatutPermission.FIXEE:
        raise OperationInterdite("La somme de cette permission a déjà été remise ou annulée.")
    ecriture = _passer(
        compte,
        nature=NatureEcriture.PERMISSION_REMISE,
        source=_source_etape(permission, "remise"),
        motif=f"Somme remise pour la permission de sortir du {permission.date_sortie:%d/%m/%Y}",
        lignes=[
            Ligne(Partie.PART_DISPONIBLE, -permission.montant_fixe),
            Ligne(Partie.CONTREPARTIE, permission.montant_fixe, Contrepartie.DETENU),
        ],
        auteur=auteur,
        auteur_systeme="",
        date_operation=date_operation or aujourdhui(),
    )
    permission.statut = StatutPermission.REMISE
    permission.ecriture_remise = ecriture
    permission.save(update_fields=["statut", "ecriture_remise"])
    return ecriture


@transaction.atomic
def enregistrer_retour_permission(
    *,
    permission: PermissionSortie,
    montant_rapporte,
    auteur,
    date_operation: datetime.date | None = None,
) -> Ecriture | None:
    """D. 424-4: money brought back returns to the part disponible unsplit up to what was
    handed out; only the excess is split, as a subject receipt."""
    rapporte = (
        ZERO
        if montant_rapporte in (0, "0", ZERO)
        else montant_valide(montant_rapporte, libelle="La somme rapportée")
    )
    permission, compte = _verrouiller_permission(permission)
    verifier_droits(
        auteur, compte.detenu.etablissement, "regie.passer_ecriture", "passer une écriture"
    )
    # A return recorded as « nothing brought back » booked no entry, so there is nothing
    # to reverse: it is corrected by recording the return again.
    corrige_un_retour_nul = (
        permission.statut == StatutPermission.REVENUE and permission.ecriture_retour_id is None
    )
    if permission.statut != StatutPermission.REMISE and not corrige_un_retour_nul:
        raise OperationInterdite(
            "Le retour ne peut être enregistré qu'après la remise de la somme."
        )
    ecriture = None
    if rapporte > 0:
        jour = date_operation or aujourdhui()
        restitue = min(rapporte, permission.montant_fixe)
        excedent = rapporte - restitue
        lignes = [Ligne(Partie.PART_DISPONIBLE, restitue)]
        if excedent:
            lignes += _lignes_repartition(compte, excedent, jour, _cumul_du_mois(compte, jour))
        lignes.append(Ligne(Partie.CONTREPARTIE, -rapporte, Contrepartie.DETENU))
        ecriture = _passer(
            compte,
            nature=NatureEcriture.PERMISSION_RETOUR,
            source=_source_etape(permission, "retour"),
            motif=f"Retour de la permission de sortir du {permission.date_sortie:%d/%m/%Y}",
            lignes=lignes,
            auteur=auteur,
            auteur_systeme="",
            date_operation=jour,
            montant_soumis=excedent,
            mois_repartition=_premier_du_mois(jour),
        )
    permission.statut = StatutPermission.REVENUE
    permission.montant_rapporte = rapporte
    permission.ecriture_retour = ecriture
    permission.save(update_fields=["statut", "montant_rapporte", "ecriture_retour"])
    if ecriture is not None:
        examiner_recette(ecriture)  # vigilance: may open alerts, never refuses
    return ecriture
