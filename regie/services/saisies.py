"""Garnishment of the account (D. 332-20) and the detainee's voluntary transfer to part 1
(D. 332-12, last paragraph, since décret 2015-689).

A saisie-attribution served on the régisseur reaches **only the part disponible**, less the
cantonnement the court ordered and the sums the law makes unseizable: the software records
that protected sum from the document (`Saisie.montant_laisse`), since no text sets one
for the régie (docs/regles-metier.md). Part 1, the pécule (unavailable and unseizable,
D. 332-14) and the blocked D.422 sums are never reached.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from socle.dates import aujourdhui
from socle.formats import euros

from ..exceptions import OperationInterdite, SoldeInsuffisant
from ..models import (
    ZERO,
    ActionSituation,
    CompteNominatif,
    Contrepartie,
    Ecriture,
    EvenementSituation,
    NatureEcriture,
    NatureOrdre,
    PaiementSaisie,
    Partie,
    Saisie,
    StatutSaisie,
)
from .ecritures import (
    EN_VIGUEUR,
    Ligne,
    _compte_actif,
    _passer,
    _source_libre,
    _verrouiller,
    montant_valide,
    verifier_droits,
)
from .ordres import beneficiaire_valide, payer_ecriture


def _requis(valeur: str, message: str) -> str:
    if not valeur or not valeur.strip():
        raise OperationInterdite(message)
    return valeur.strip()


@transaction.atomic
def enregistrer_saisie(
    *,
    compte: CompteNominatif,
    creancier: str,
    reference_acte: str,
    date_acte: datetime.date,
    montant_cause,
    montant_laisse,
    auteur,
    source: str | None = None,
) -> Saisie:
    """Record the act served on the régisseur (no money moves yet)."""
    montant_cause = montant_valide(montant_cause, libelle="La somme réclamée")
    montant_laisse = (
        ZERO
        if montant_laisse in (0, "0", ZERO, None, "")
        else montant_valide(montant_laisse, libelle="Le montant laissé à disposition")
    )
    compte = _verrouiller(compte.pk)
    detenu = compte.detenu
    verifier_droits(auteur, detenu.etablissement, "regie.passer_ecriture", "enregistrer une saisie")
    _compte_actif(compte)
    creancier = _requis(creancier, "Le créancier saisissant est obligatoire.")
    reference_acte = _requis(reference_acte, "La référence de l'acte de saisie est obligatoire.")
    _source_libre(Saisie, source, "Cette saisie a déjà été enregistrée")
    saisie = Saisie.objects.create(
        compte=compte,
        creancier=creancier,
        reference_acte=reference_acte,
        date_acte=date_acte,
        montant_cause=montant_cause,
        montant_laisse=montant_laisse,
        enregistree_par=auteur,
        source=source,
    )
    EvenementSituation.objects.create(
        detenu=detenu,
        auteur=auteur,
        action=ActionSituation.SAISIE,
        date_effet=date_acte,
        reference=reference_acte,
        details=f"{creancier} : {euros(montant_cause)} réclamés, {euros(montant_laisse)} "
        "laissés à disposition",
    )
    return saisie


def montant_paye_saisie(saisie: Saisie) -> Decimal:
    return (
        Ecriture.objects.filter(
            EN_VIGUEUR,
            pk__in=PaiementSaisie.objects.filter(saisie=saisie).values("ecriture_id"),
        ).aggregate(total=Sum("montant"))["total"]
        or ZERO
    )


def montant_saisissable(saisie: Saisie, compte: CompteNominatif) -> Decimal:
    """What the garnishment can take now: the free part disponible less the protected
    sum, within what is still claimed."""
    reste_du = saisie.montant_cause - montant_paye_saisie(saisie)
    return max(min(compte.part_disponible_libre - saisie.montant_laisse, reste_du), ZERO)


@transaction.atomic
def payer_saisie(
    *,
    saisie: Saisie,
    montant,
    auteur,
    source: str,
    iban: str,
    bic: str = "",
    piece: str = "",
    date_operation: datetime.date | None = None,
) -> Ecriture:
    """Pay the garnishing creditor from the part disponible only, by a payment order to
    the account the bailiff's document gives."""
    montant = montant_valide(montant)
    destinataire = beneficiaire_valide(saisie.creancier[:70], iban, bic)
    compte = _verrouiller(saisie.compte_id)
    saisie = Saisie.objects.select_for_update().get(pk=saisie.pk)
    verifier_droits(
        auteur, compte.detenu.etablissement, "regie.passer_ecriture", "passer une écriture"
    )
    if saisie.statut != StatutSaisie.EN_COURS:
        raise OperationInterdite(f"Cette saisie est {saisie.get_statut_display().lower()}.")
    possible = montant_saisissable(saisie, compte)
    if montant > possible:
        raise SoldeInsuffisant(
            f"La saisie ne peut prendre que {euros(possible)} : elle ne porte que sur la part "
            f"disponible non bloquée ({euros(compte.part_disponible_libre)}), moins "
            f"{euros(saisie.montant_laisse)} laissés à la disposition de la personne, dans la "
            f"limite des {euros(saisie.montant_cause - montant_paye_saisie(saisie))} encore "
            "réclamés (D. 332-20).",
            partie=Partie.PART_DISPONIBLE,
            disponible=possible,
        )
    ecriture = _passer(
        compte,
        nature=NatureEcriture.SAISIE_ATTRIBUTION,
        source=source,
        motif=f"Saisie-attribution du {saisie.date_acte:%d/%m/%Y} ({saisie.reference_acte}) "
        f"au profit de {saisie.creancier}",
        lignes=[
            Ligne(Partie.PART_DISPONIBLE, -montant),
            Ligne(Partie.CONTREPARTIE, montant, Contrepartie.CREANCIER_SAISISSANT),
        ],
        auteur=auteur,
        auteur_systeme="",
        date_operation=date_operation or aujourdhui(),
        piece=piece or saisie.reference_acte,
    )
    payer_ecriture(
        ecriture,
        nature=NatureOrdre.SAISIE,
        beneficiaire=destinataire,
        auteur=auteur,
        libelle=f"SAISIE {saisie.reference_acte} {compte.detenu.nom}",
        contrepartie=Contrepartie.CREANCIER_SAISISSANT,
        partie=Partie.PART_DISPONIBLE,
        piece=piece or saisie.reference_acte,
    )
    PaiementSaisie.objects.create(saisie=saisie, ecriture=ecriture)
    if montant_paye_saisie(saisie) >= saisie.montant_cause:
        saisie.statut = StatutSaisie.SOLDEE
        saisie.save(update_fields=["statut"])
    return ecriture


@transaction.atomic
def lever_saisie(*, saisie: Saisie, auteur, motif: str, date_effet: datetime.date) -> Saisie:
    """Mainlevée (release) of a garnishment still in progress."""
    compte = _verrouiller(saisie.compte_id)
    saisie = Saisie.objects.select_for_update().get(pk=saisie.pk)
    verifier_droits(
        auteur, compte.detenu.etablissement, "regie.passer_ecriture", "lever une saisie"
    )
    motif = _requis(motif, "Le motif de la mainlevée est obligatoire.")
    if saisie.statut != StatutSaisie.EN_COURS:
        raise OperationInterdite(f"Cette saisie est {saisie.get_statut_display().lower()}.")
    saisie.statut = StatutSaisie.LEVEE
    saisie.save(update_fields=["statut"])
    EvenementSituation.objects.create(
        detenu=compte.detenu,
        auteur=auteur,
        action=ActionSituation.MAINLEVEE,
        date_effet=date_effet,
        reference=saisie.reference_acte,
        details=motif,
    )
    return saisie


@transaction.atomic
def verser_volontairement_parties_civiles(
    *,
    compte: CompteNominatif,
    montant,
    auteur,
    source: str,
    piece: str,
    date_operation: datetime.date | None = None,
) -> Ecriture:
    """D. 332-12 (last paragraph, décret 2015-689): on the detainee's written request
    (`piece`), a sum of the part disponible is moved to part 1, even before the victims
    are known. It is not a receipt (no répartition, no monthly counter) and, once there,
    the detainee can no longer dispose of it (D. 332-11). It counts towards the 1 000 €
    of the ceiling like any sum of part 1."""
    montant = montant_valide(montant)
    compte = _verrouiller(compte.pk)
    verifier_droits(
        auteur, compte.detenu.etablissement, "regie.passer_ecriture", "passer une écriture"
    )
    _compte_actif(compte)
    piece = _requis(piece, "La demande écrite de la personne détenue est obligatoire.")
    if montant > compte.part_disponible_libre:
        raise SoldeInsuffisant(
            f"Solde insuffisant sur la part disponible : {euros(compte.part_disponible_libre)} "
            f"disponibles pour un versement de {euros(montant)}.",
            partie=Partie.PART_DISPONIBLE,
            disponible=compte.part_disponible_libre,
        )
    return _passer(
        compte,
        nature=NatureEcriture.VERSEMENT_VOLONTAIRE_PC,
        source=source,
        motif="Versement volontaire de la part disponible à la part des parties civiles, à la "
        "demande de la personne détenue (D. 332-12).",
        lignes=[
            Ligne(Partie.PART_DISPONIBLE, -montant),
            Ligne(Partie.PARTIES_CIVILES, montant),
        ],
        auteur=auteur,
        auteur_systeme="",
        date_operation=date_operation or aujourdhui(),
        piece=piece,
    )
