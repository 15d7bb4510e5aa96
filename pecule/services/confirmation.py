"""« Confirmer »: back from the bank, the relative finalises the transfer. The bank's
answer is asked again (the return carries nothing trustworthy); a transfer the bank
refused, or that was cancelled or expired, cannot be confirmed. The confirmation is
recorded once in the transfer's history: it moves no money and changes no state."""

from __future__ import annotations

from django.db import transaction

from ..fournisseurs.base import ErreurFournisseur
from ..models import EvenementVirement, StatutPaiement, Virement
from .commun import VirementImpossible, journal
from .etats import actualiser_virement

SOURCE_CONFIRMATION = "confirmation"
ECHECS = (StatutPaiement.REFUSE, StatutPaiement.ANNULE, StatutPaiement.EXPIRE)


def actualiser_depuis_le_retour(virement: Virement) -> Virement:
    """Ask the provider for the payment's status (back from the bank's window); when it
    cannot answer, the transfer stays as it is and the poller will ask again."""
    if virement.est_final or not virement.id_fournisseur:
        return virement
    try:
        return actualiser_virement(virement=virement, origine="retour")
    except ErreurFournisseur:
        return virement


def confirmer_par_le_proche(*, virement: Virement) -> Virement:
    """Record that the relative clicked « Confirmer » (once, whatever the number of
    clicks). Raises VirementImpossible if the bank did not carry the transfer out."""
    virement = actualiser_depuis_le_retour(virement)
    if virement.statut_paiement in ECHECS:
        raise VirementImpossible(
            f"Le virement {virement.reference} n'a pas été réalisé : "
            f"{virement.etat_proche.label.lower()}."
        )
    with transaction.atomic():
        virement = Virement.objects.select_for_update(of=("self",)).get(pk=virement.pk)
        if not EvenementVirement.objects.filter(
            virement=virement, source=SOURCE_CONFIRMATION
        ).exists():
            journal(
                virement,
                SOURCE_CONFIRMATION,
                virement.statut_paiement,
                virement.statut_paiement,
                "Virement confirmé par le proche sur le portail.",
            )
    return virement
