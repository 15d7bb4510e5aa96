"""Corrections: refunds of a debit, and reversals (an entry is never changed)."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import Sum

from socle.dates import aujourdhui
from socle.formats import euros

from ..exceptions import (
    OperationInterdite,
)
from ..models import (
    ZERO,
    Ecriture,
    NatureEcriture,
    Partie,
    StatutOrdre,
)
from .ecritures import (
    CONTREPARTIE_DES_DEBITS,
    NATURES_CONTREPASSABLES,
    Ligne,
    _passer,
    _verrouiller,
    montant_valide,
    verifier_droits,
)
from .ordres import ordre_en_cours_pour


def _ordre_qui_empeche(ecriture: Ecriture, *, argent_parti_interdit: bool) -> None:
    """An entry paid by a payment order on its way cannot be corrected: the order is
    refused (or rejected by the bank), which puts the money back. Once the bank paid,
    the money is gone: no reversal (a refund records money that came back)."""
    ordre = ordre_en_cours_pour(ecriture)
    if ordre is None:
        return
    if ordre.statut == StatutOrdre.EXECUTE:
        if argent_parti_interdit:
            raise OperationInterdite(
                f"La banque a versé cette somme (ordre {ordre.reference}, le "
                f"{ordre.execute_le:%d/%m/%Y}) : l'écriture ne peut plus être contre-passée. "
                "Si l'argent revient, enregistrez-le comme remboursement."
            )
        return
    raise OperationInterdite(
        f"Cette écriture est payée par l'ordre de virement {ordre.reference} "
        f"({ordre.get_statut_display().lower()}) : pour remettre la somme en compte, "
        "l'ordre doit être refusé, ou rejeté par la banque."
    )


@transaction.atomic
def rembourser(
    *,
    ecriture: Ecriture,
    montant,
    source: str,
    motif: str,
    auteur=None,
    auteur_systeme: str = "",
    date_operation: datetime.date | None = None,
) -> Ecriture:
    """Refund (cancelled canteen order, …) back to the part the debit came from."""
    montant = montant_valide(montant)
    compte = _verrouiller(ecriture.compte_id)
    verifier_droits(
        auteur, compte.detenu.etablissement, "regie.passer_ecriture", "passer une écriture"
    )
    if ecriture.nature not in CONTREPARTIE_DES_DEBITS:
        raise OperationInterdite("Seul un débit de la part disponible peut être remboursé.")
    if hasattr(ecriture, "contrepassee_par"):
        raise OperationInterdite("Cette écriture a été contre-passée.")
    _ordre_qui_empeche(ecriture, argent_parti_interdit=False)
    deja = ecriture.remboursements.aggregate(total=Sum("montant"))["total"] or ZERO
    if montant > ecriture.montant - deja:
        raise OperationInterdite(
            f"Le remboursement dépasse le débit d'origine : {euros(ecriture.montant - deja)} "
            "remboursables."
        )
    return _passer(
        compte,
        nature=NatureEcriture.REMBOURSEMENT,
        source=source,
        motif=motif,
        lignes=[
            Ligne(Partie.PART_DISPONIBLE, montant),
            Ligne(Partie.CONTREPARTIE, -montant, CONTREPARTIE_DES_DEBITS[ecriture.nature]),
        ],
        auteur=auteur,
        auteur_systeme=auteur_systeme,
        date_operation=date_operation or aujourdhui(),
        rembourse=ecriture,
    )


@transaction.atomic
def contrepasser(
    *, ecriture: Ecriture, motif: str, auteur=None, auteur_systeme: str = ""
) -> Ecriture:
    """Cancel an entry by a new, reversing one (same lines, opposite signs). A subject
    receipt's reversal also takes it out of its month's counter."""
    compte = _verrouiller(ecriture.compte_id)
    verifier_droits(
        auteur, compte.detenu.etablissement, "regie.passer_ecriture", "contre-passer une écriture"
    )
    if ecriture.nature not in NATURES_CONTREPASSABLES:
        raise OperationInterdite(
            f"Une écriture « {ecriture.get_nature_display()} » ne peut pas être contre-passée ; "
            "utilisez l'opération prévue."
        )
    if ecriture.remboursements.exists():
        raise OperationInterdite("Cette écriture a déjà fait l'objet d'un remboursement.")
    _ordre_qui_empeche(ecriture, argent_parti_interdit=True)
    return _passer(
        compte,
        nature=NatureEcriture.CONTREPASSATION,
        source=f"contrepassation:{ecriture.pk}",
        motif=motif,
        lignes=[
            Ligne(ligne.partie, -ligne.montant, ligne.contrepartie, ligne.bloque_d422)
            for ligne in ecriture.lignes.select_related("bloque_d422")
        ],
        auteur=auteur,
        auteur_systeme=auteur_systeme,
        date_operation=aujourdhui(),
        montant_soumis=-ecriture.montant_soumis,
        mois_repartition=ecriture.mois_repartition,
        emetteur=ecriture.emetteur,
        contrepasse=ecriture,
    )
