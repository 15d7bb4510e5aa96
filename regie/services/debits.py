"""Debits: of the part disponible (canteen, rentals, money sent out…), payments to the
victims from part 1, release of the pécule during a sentence adjustment."""

from __future__ import annotations

import datetime

from django.db import transaction

from socle.formats import euros

from ..exceptions import (
    OperationInterdite,
    SoldeInsuffisant,
)
from ..models import (
    CompteNominatif,
    Contrepartie,
    Ecriture,
    NatureEcriture,
    Partie,
    StatutPenal,
)
from .ecritures import (
    CONTREPARTIE_DES_DEBITS,
    _mouvement_simple,
    montant_valide,
)


@transaction.atomic
def debiter_part_disponible(
    *,
    compte: CompteNominatif,
    montant,
    nature: str,
    source: str,
    motif: str,
    auteur=None,
    auteur_systeme: str = "",
    date_operation: datetime.date | None = None,
    piece: str = "",
) -> Ecriture:
    """Canteen, rentals, money sent out, sums handed over: the part disponible only,
    never its blocked D.422 sums, never below zero."""
    montant = montant_valide(montant)
    if nature not in CONTREPARTIE_DES_DEBITS:
        raise ValueError(f"{nature!r} is not a debit of the part disponible.")

    def part_libre_suffisante(compte: CompteNominatif) -> None:
        if montant <= compte.part_disponible_libre:
            return
        bloque = compte.part_disponible_bloquee
        raise SoldeInsuffisant(
            f"Solde insuffisant sur la part disponible : {euros(compte.part_disponible_libre)} "
            f"disponibles pour un débit de {euros(montant)}"
            + (
                f" ({euros(bloque)} sont bloqués pour une dépense autorisée D.422 et ne sont "
                "pas utilisables ; la part disponible non bloquée est insuffisante)."
                if bloque
                else "."
            ),
            partie=Partie.PART_DISPONIBLE,
            disponible=compte.part_disponible_libre,
        )

    return _mouvement_simple(
        compte=compte,
        partie=Partie.PART_DISPONIBLE,
        montant=-montant,
        contrepartie=CONTREPARTIE_DES_DEBITS[nature],
        nature=nature,
        source=source,
        motif=motif,
        auteur=auteur,
        auteur_systeme=auteur_systeme,
        date_operation=date_operation,
        piece=piece,
        controle=part_libre_suffisante,
    )


@transaction.atomic
def payer_parties_civiles(
    *,
    compte: CompteNominatif,
    montant,
    beneficiaire: str,
    source: str,
    motif: str,
    auteur,
    date_operation: datetime.date | None = None,
    piece: str = "",
) -> Ecriture:
    """D. 332-11: pay victims or maintenance creditors from part 1, at the prosecutor's
    request (the request is the `piece`)."""
    montant = montant_valide(montant)
    if not beneficiaire.strip():
        raise OperationInterdite("Le bénéficiaire du paiement est obligatoire.")
    return _mouvement_simple(
        compte=compte,
        partie=Partie.PARTIES_CIVILES,
        montant=-montant,
        contrepartie=Contrepartie.PARTIES_CIVILES,
        nature=NatureEcriture.PAIEMENT_VICTIMES,
        source=source,
        motif=f"{motif.strip()} – bénéficiaire : {beneficiaire.strip()}",
        auteur=auteur,
        date_operation=date_operation,
        piece=piece,
        compte_actif=False,
    )


@transaction.atomic
def debloquer_pecule_liberation(
    *,
    compte: CompteNominatif,
    montant,
    source: str,
    motif: str,
    auteur,
    date_operation: datetime.date | None = None,
    piece: str = "",
) -> Ecriture:
    """D. 424-3: the head releases pécule for resettlement expenses during a sentence
    adjustment under écrou (semi-liberté, placement à l'extérieur, DDSE); it is paid
    out, not moved to the part disponible. Refused otherwise: the pécule is unavailable
    during detention and handed over only at release (D. 332-14, D. 332-21)."""

    def amenagement_sous_ecrou(compte: CompteNominatif) -> None:
        detenu = compte.detenu
        if detenu.statut_penal == StatutPenal.PREVENU:
            raise OperationInterdite(
                "Le pécule de libération d'une personne prévenue est indisponible : seule "
                "une personne condamnée en aménagement de peine sous écrou peut en disposer "
                "(D. 424-3)."
            )
        if detenu.suspension:
            raise OperationInterdite(
                "La peine est suspendue ou fractionnée : le pécule de libération reste sur le "
                "compte jusqu'à la fin de la peine (D. 332-24)."
            )
        if not detenu.en_amenagement_sous_ecrou:
            raise OperationInterdite(
                f"Le pécule de libération est indisponible en {detenu.get_regime_display().lower()} "
                ": il ne peut être débloqué que pendant un aménagement de peine sous écrou "
                "(semi-liberté, placement à l'extérieur, détention à domicile sous "
                "surveillance électronique), pour des dépenses de réinsertion (D. 424-3). "
                "Sinon, il est remis à la libération."
            )

    return _mouvement_simple(
        compte=compte,
        partie=Partie.PECULE_LIBERATION,
        montant=-montant_valide(montant),
        contrepartie=Contrepartie.DETENU,
        nature=NatureEcriture.DEBLOCAGE_PECULE,
        source=source,
        motif=motif,
        auteur=auteur,
        date_operation=date_operation,
        piece=piece,
        permission="regie.decider_deblocage_pecule",
        action="débloquer le pécule de libération",
        controle=amenagement_sous_ecrou,
    )
