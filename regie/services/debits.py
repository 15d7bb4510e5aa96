"""Debits: of the part disponible (canteen, rentals, money sent out…), payments to the
victims from part 1, release of the pécule during a sentence adjustment.

A debit whose money leaves the régie towards an outside account (money sent out, victims
and creditors, the pécule released) writes, in the same transaction, the payment order
that pays it (`regie.services.ordres`); the others (canteen, rentals, cash handed over,
other debits) are settled inside the régie's accounting (docs/sorties-de-fonds.md)."""

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
    NatureOrdre,
    Partie,
    StatutPenal,
    TypeCreancier,
)
from .ecritures import (
    CONTREPARTIE_DES_DEBITS,
    _mouvement_simple,
    montant_valide,
)
from .ordres import beneficiaire_valide, payer_ecriture


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
    beneficiaire: str = "",
    iban: str = "",
    bic: str = "",
) -> Ecriture:
    """Canteen, rentals, money sent out, sums handed over: the part disponible only,
    never its blocked D.422 sums, never below zero. Money sent out (`VIREMENT_SORTANT`)
    names its beneficiary and IBAN and is paid by a payment order."""
    montant = montant_valide(montant)
    if nature not in CONTREPARTIE_DES_DEBITS:
        raise ValueError(f"{nature!r} is not a debit of the part disponible.")
    destinataire = None
    if nature == NatureEcriture.VIREMENT_SORTANT:
        destinataire = beneficiaire_valide(beneficiaire, iban, bic)
        if auteur is None:
            raise OperationInterdite(
                "Un envoi d'argent à l'extérieur est préparé par une personne."
            )
    elif beneficiaire or iban:
        raise OperationInterdite(
            "Seul un envoi d'argent à l'extérieur est payé par virement à un bénéficiaire."
        )

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

    ecriture = _mouvement_simple(
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
    if destinataire is not None:
        detenu = ecriture.compte.detenu
        payer_ecriture(
            ecriture,
            nature=NatureOrdre.VIREMENT_DETENU,
            partie=Partie.PART_DISPONIBLE,
            contrepartie=CONTREPARTIE_DES_DEBITS[nature],
            beneficiaire=destinataire,
            auteur=auteur,
            libelle=f"DE {detenu.nom} {detenu.prenoms} {motif}",
            piece=piece,
        )
    return ecriture


@transaction.atomic
def payer_parties_civiles(
    *,
    compte: CompteNominatif,
    montant,
    beneficiaire: str,
    iban: str,
    source: str,
    motif: str,
    auteur,
    type_creancier: str = TypeCreancier.VICTIME,
    bic: str = "",
    date_operation: datetime.date | None = None,
    piece: str = "",
) -> Ecriture:
    """D. 332-11, L. 332-2: pay victims or maintenance creditors from part 1, at the
    prosecutor's request (the request is the `piece`), by a payment order. Maintenance
    creditors come first: while one holding an enforceable title has made a claim
    (`Detenu.creance_alimentaire_executoire`), the victims are not paid."""
    montant = montant_valide(montant)
    destinataire = beneficiaire_valide(beneficiaire, iban, bic)
    if type_creancier not in TypeCreancier.values:
        raise OperationInterdite("Indiquez s'il s'agit d'une victime ou d'un créancier d'aliments.")

    def creanciers_d_abord(compte: CompteNominatif) -> None:
        if type_creancier == TypeCreancier.VICTIME and compte.detenu.creance_alimentaire_executoire:
            raise OperationInterdite(
                "Un créancier d'aliments titulaire d'un titre exécutoire s'est fait connaître : "
                "il est payé avant les victimes (L. 332-2). Payez-le d'abord, puis indiquez "
                "sur la fiche de la personne que sa créance est réglée."
            )

    ecriture = _mouvement_simple(
        compte=compte,
        partie=Partie.PARTIES_CIVILES,
        montant=-montant,
        contrepartie=Contrepartie.PARTIES_CIVILES,
        nature=NatureEcriture.PAIEMENT_VICTIMES,
        source=source,
        motif=f"{motif.strip()} – {TypeCreancier(type_creancier).label.lower()} : "
        f"{destinataire.nom}",
        auteur=auteur,
        date_operation=date_operation,
        piece=piece,
        compte_actif=False,
        controle=creanciers_d_abord,
    )
    detenu = ecriture.compte.detenu
    payer_ecriture(
        ecriture,
        nature=NatureOrdre.PARTIES_CIVILES,
        partie=Partie.PARTIES_CIVILES,
        contrepartie=Contrepartie.PARTIES_CIVILES,
        beneficiaire=destinataire,
        auteur=auteur,
        libelle=f"INDEMNISATION {detenu.nom} ECROU {detenu.numero_ecrou} {piece}",
        piece=piece,
    )
    return ecriture


@transaction.atomic
def debloquer_pecule_liberation(
    *,
    compte: CompteNominatif,
    montant,
    source: str,
    motif: str,
    auteur,
    beneficiaire: str,
    iban: str,
    bic: str = "",
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

    destinataire = beneficiaire_valide(beneficiaire, iban, bic)
    ecriture = _mouvement_simple(
        compte=compte,
        partie=Partie.PECULE_LIBERATION,
        montant=-montant_valide(montant),
        contrepartie=Contrepartie.EXTERIEUR,
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
    detenu = ecriture.compte.detenu
    payer_ecriture(
        ecriture,
        nature=NatureOrdre.DEBLOCAGE_PECULE,
        partie=Partie.PECULE_LIBERATION,
        contrepartie=Contrepartie.EXTERIEUR,
        beneficiaire=destinataire,
        auteur=auteur,
        libelle=f"PECULE {detenu.nom} {detenu.prenoms} {motif}",
        piece=piece,
    )
    return ecriture
