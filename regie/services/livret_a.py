"""The pécule de libération on a livret A (D. 332-14): « elles sont versées sur un livret A,
lorsqu'elles dépassent une somme fixée par arrêté du garde des sceaux ».

The money placed stays in part 2 (unavailable, unseizable): the livret is a sub-state of
the pécule, shown by the ledger lines flagged `livret_a` (as the blocked D.422 sums are a
sub-state of the part disponible). Placing, bringing back and the interest are entries;
the posting primitive refuses any entry that would leave the pécule below what sits on
the livret, so the release, a déblocage (D. 424-3) or a transfer of the pécule needs the
livret brought back first (or does it itself, as the payments to the Trésor do).
The threshold is a setting (`regie.parametres.seuil_pecule_livret_a`, 229 €).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet

from socle.dates import aujourdhui
from socle.formats import euros

from ..exceptions import OperationInterdite, SoldeInsuffisant
from ..models import CompteNominatif, Contrepartie, Ecriture, NatureEcriture, Partie
from ..parametres import seuil_pecule_livret_a
from .ecritures import (
    Ligne,
    _compte_actif,
    _passer,
    _verrouiller,
    montant_valide,
    pecule_sur_livret_a,
    verifier_droits,
)


def pecule_a_placer(compte: CompteNominatif) -> Decimal:
    """The pécule not yet on the livret when the pécule exceeds the threshold, else 0."""
    if compte.pecule_liberation <= seuil_pecule_livret_a():
        return Decimal("0.00")
    return compte.pecule_liberation - pecule_sur_livret_a(compte)


def comptes_a_placer(comptes: QuerySet[CompteNominatif]) -> list[tuple[CompteNominatif, Decimal]]:
    """The accounts whose pécule exceeds the threshold and is not wholly on the livret."""
    resultat = []
    for compte in comptes.filter(
        pecule_liberation__gt=seuil_pecule_livret_a(), cloture_le__isnull=True
    ).select_related("detenu"):
        montant = pecule_a_placer(compte)
        if montant > 0:
            resultat.append((compte, montant))
    return resultat


@transaction.atomic
def placer_pecule_livret_a(
    *,
    compte: CompteNominatif,
    montant,
    reference_livret: str,
    auteur,
    source: str,
    date_operation: datetime.date | None = None,
) -> Ecriture:
    montant = montant_valide(montant)
    compte = _verrouiller(compte.pk)
    verifier_droits(
        auteur, compte.detenu.etablissement, "regie.passer_ecriture", "passer une écriture"
    )
    _compte_actif(compte)
    if not reference_livret.strip():
        raise OperationInterdite("La référence du livret A est obligatoire.")
    seuil = seuil_pecule_livret_a()
    if compte.pecule_liberation <= seuil:
        raise OperationInterdite(
            f"Le pécule de libération ({euros(compte.pecule_liberation)}) ne dépasse pas "
            f"{euros(seuil)} : il reste sur le compte spécial (D. 332-14)."
        )
    libre = compte.pecule_liberation - pecule_sur_livret_a(compte)
    if montant > libre:
        raise SoldeInsuffisant(
            f"Seuls {euros(libre)} du pécule ne sont pas encore sur le livret A.",
            partie=Partie.PECULE_LIBERATION,
            disponible=libre,
        )
    return _passer(
        compte,
        nature=NatureEcriture.PLACEMENT_LIVRET_A,
        source=source,
        motif=f"Pécule de libération au-delà de {euros(seuil)} placé sur le livret A "
        f"{reference_livret.strip()} (D. 332-14).",
        lignes=[
            Ligne(Partie.PECULE_LIBERATION, -montant),
            Ligne(Partie.PECULE_LIBERATION, montant, livret=True),
        ],
        auteur=auteur,
        auteur_systeme="",
        date_operation=date_operation or aujourdhui(),
        piece=reference_livret.strip(),
    )


@transaction.atomic
def rapatrier_pecule_livret_a(
    *,
    compte: CompteNominatif,
    montant,
    motif: str,
    auteur,
    source: str,
    date_operation: datetime.date | None = None,
) -> Ecriture:
    """Bring money back from the livret to the pécule (before the release, a déblocage,
    a transfer…)."""
    montant = montant_valide(montant)
    compte = _verrouiller(compte.pk)
    verifier_droits(
        auteur, compte.detenu.etablissement, "regie.passer_ecriture", "passer une écriture"
    )
    sur_livret = pecule_sur_livret_a(compte)
    if montant > sur_livret:
        raise SoldeInsuffisant(
            f"Le livret A ne contient que {euros(sur_livret)}.",
            partie=Partie.PECULE_LIBERATION,
            disponible=sur_livret,
        )
    return _passer(
        compte,
        nature=NatureEcriture.RAPATRIEMENT_LIVRET_A,
        source=source,
        motif=motif,
        lignes=[
            Ligne(Partie.PECULE_LIBERATION, -montant, livret=True),
            Ligne(Partie.PECULE_LIBERATION, montant),
        ],
        auteur=auteur,
        auteur_systeme="",
        date_operation=date_operation or aujourdhui(),
    )


@transaction.atomic
def crediter_interets_livret_a(
    *,
    compte: CompteNominatif,
    montant,
    piece: str,
    auteur,
    source: str,
    date_operation: datetime.date | None = None,
) -> Ecriture:
    """The livret's interest belongs to the pécule (not a receipt: no répartition)."""
    montant = montant_valide(montant)
    compte = _verrouiller(compte.pk)
    verifier_droits(
        auteur, compte.detenu.etablissement, "regie.passer_ecriture", "passer une écriture"
    )
    if pecule_sur_livret_a(compte) <= 0:
        raise OperationInterdite("Aucune somme de ce pécule n'est placée sur livret A.")
    return _passer(
        compte,
        nature=NatureEcriture.INTERETS_LIVRET_A,
        source=source,
        motif="Intérêts du livret A du pécule de libération (D. 332-14).",
        lignes=[
            Ligne(Partie.PECULE_LIBERATION, montant, livret=True),
            Ligne(Partie.CONTREPARTIE, -montant, Contrepartie.LIVRET_A),
        ],
        auteur=auteur,
        auteur_systeme="",
        date_operation=date_operation or aujourdhui(),
        piece=piece,
    )
