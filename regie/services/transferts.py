"""A detainee's transfer to another prison (R. 332-29): the balance follows them."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from socle.dates import aujourdhui

from ..exceptions import (
    OperationInterdite,
)
from ..models import (
    ActionD422,
    AutorisationD422,
    CompteNominatif,
    Contrepartie,
    Detenu,
    Ecriture,
    Etablissement,
    LigneEcriture,
    NatureEcriture,
    NatureOrdre,
    Partie,
    StatutD422,
)
from .d422 import (
    _journal_d422,
)
from .ecritures import (
    Ligne,
    _compte_actif,
    _passer,
    _verrouiller,
    verifier_droits,
)
from .ordres import compte_de_la_regie, preparer_ordre


def _lignes_du_solde(compte: CompteNominatif, signe: int) -> list[Ligne]:
    """One line per part holding money (blocked sums per authorisation), times `signe`."""
    lignes = [
        Ligne(Partie.PARTIES_CIVILES, signe * compte.parties_civiles),
        Ligne(Partie.PECULE_LIBERATION, signe * compte.pecule_liberation),
        Ligne(Partie.PART_DISPONIBLE, signe * compte.part_disponible_libre),
    ]
    blocages = (
        LigneEcriture.objects.filter(ecriture__compte=compte, bloque_d422__isnull=False)
        .values("bloque_d422")
        .annotate(total=Sum("montant"))
        .filter(total__gt=0)
    )
    autorisations = AutorisationD422.objects.in_bulk([b["bloque_d422"] for b in blocages])
    lignes += [
        Ligne(Partie.PART_DISPONIBLE, signe * b["total"], bloque=autorisations[b["bloque_d422"]])
        for b in blocages
    ]
    return [ligne for ligne in lignes if ligne.montant]


@transaction.atomic
def transferer_detenu(
    *,
    detenu: Detenu,
    vers: Etablissement,
    nouveau_numero_ecrou: str,
    auteur,
    date_operation: datetime.date | None = None,
) -> tuple[Ecriture | None, Ecriture | None]:
    """Send each part's balance to the new régie and credit it there, unsplit; the D.422
    authorisations and their blocked sums follow the detainee. The money itself goes from
    the origin régie's bank account to the destination's by a payment order (none when
    both régies share one account)."""
    compte = _verrouiller(detenu.compte.pk)
    detenu = compte.detenu
    origine = detenu.etablissement
    verifier_droits(auteur, origine, "regie.passer_ecriture", "transférer une personne détenue")
    _compte_actif(compte)
    if vers.pk == origine.pk:
        raise OperationInterdite("La personne détenue est déjà dans cet établissement.")
    if Detenu.objects.filter(etablissement=vers, numero_ecrou=nouveau_numero_ecrou).exists():
        raise OperationInterdite(
            "Ce numéro d'écrou existe déjà dans l'établissement de destination."
        )
    jour = date_operation or aujourdhui()
    total = compte.total
    reference = f"transfert:{detenu.pk}:{origine.pk}-{vers.pk}:{timezone.now().isoformat()}"
    sortie = entree = None
    if total > 0:
        sortie = _passer(
            compte,
            nature=NatureEcriture.TRANSFERT_SORTANT,
            source=f"{reference}:sortie",
            motif=f"Transfert vers {vers.nom}",
            lignes=[
                *_lignes_du_solde(compte, -1),
                Ligne(Partie.CONTREPARTIE, total, Contrepartie.ETABLISSEMENT),
            ],
            auteur=auteur,
            auteur_systeme="",
            date_operation=jour,
            etablissement=origine,
        )
        entree = _passer(
            compte,
            nature=NatureEcriture.TRANSFERT_ENTRANT,
            source=f"{reference}:entree",
            motif=f"Solde reçu d'un autre établissement ({origine.nom})",
            lignes=[
                *_lignes_du_solde_transfere(sortie),
                Ligne(Partie.CONTREPARTIE, -total, Contrepartie.ETABLISSEMENT),
            ],
            auteur=auteur,
            auteur_systeme="",
            date_operation=jour,
            etablissement=vers,
        )
        if compte_de_la_regie(vers).iban != compte_de_la_regie(origine).iban:
            preparer_ordre(
                nature=NatureOrdre.TRANSFERT,
                beneficiaire=compte_de_la_regie(vers),
                montant=total,
                libelle=f"TRANSFERT {detenu.nom} {detenu.prenoms} ECROU {detenu.numero_ecrou} "
                f"VERS {vers.code} ECROU {nouveau_numero_ecrou}",
                source=f"ecriture:{sortie.pk}",
                auteur=auteur,
                etablissement=origine,
                compte=compte,
                ecriture=sortie,
                contrepartie=Contrepartie.ETABLISSEMENT,
            )
    detenu.etablissement = vers
    detenu.numero_ecrou = nouveau_numero_ecrou
    detenu.save(update_fields=["etablissement", "numero_ecrou"])
    for autorisation in AutorisationD422.objects.select_for_update().filter(
        detenu=detenu, statut__in=[StatutD422.DEMANDEE, StatutD422.AUTORISEE]
    ):
        autorisation.etablissement = vers
        autorisation.save(update_fields=["etablissement"])
        _journal_d422(
            autorisation, auteur, ActionD422.TRANSFERT, f"Transfert : {origine.nom} → {vers.nom}"
        )
    return sortie, entree


def _lignes_du_solde_transfere(sortie: Ecriture) -> list[Ligne]:
    return [
        Ligne(ligne.partie, -ligne.montant, bloque=ligne.bloque_d422)
        for ligne in sortie.lignes.select_related("bloque_d422")
        if ligne.partie != Partie.CONTREPARTIE
    ]
