"""The régisseur's decisions on a transfer held « à traiter »: credit it, or return it to
the sender."""

from __future__ import annotations

from django.db import transaction

from regie import services as regie
from regie.exceptions import OperationInterdite
from regie.models import NatureEcriture

from ..models import StatutRegie, Virement
from . import courriels
from .commun import emetteur_de, journal


@transaction.atomic
def crediter_virement_a_traiter(*, virement: Virement, auteur, motif: str) -> Virement:
    """The régisseur credits a held transfer (to the detainee's current prison): a human
    decision, so the caps are not applied again."""
    virement = (
        Virement.objects.select_for_update(of=("self",))
        .select_related("detenu")
        .get(pk=virement.pk)
    )
    if virement.statut_regie != StatutRegie.A_TRAITER:
        raise OperationInterdite("Ce virement n'est pas en attente de traitement.")
    if not motif.strip():
        raise OperationInterdite("Le motif de la décision est obligatoire.")
    ecriture = regie.encaisser_recette(
        compte=virement.detenu.compte,
        montant=virement.montant,
        nature=NatureEcriture.SUBSIDE_PROCHE,
        source=f"virement:{virement.reference}",
        motif=f"Virement {virement.reference} crédité par décision du régisseur : {motif.strip()}",
        auteur=auteur,
        emetteur=emetteur_de(virement.proche),
    )
    virement.statut_regie = StatutRegie.CREDITE
    virement.ecriture = ecriture
    virement.save(update_fields=["statut_regie", "ecriture"])
    journal(virement, "regisseur", StatutRegie.A_TRAITER, StatutRegie.CREDITE, motif, auteur)
    courriels.virement_credite(virement)
    return virement


@transaction.atomic
def retourner_virement(*, virement: Virement, auteur, motif: str) -> Virement:
    """The régisseur returns a held transfer to the sender: it never reached an account,
    so no entry is reversed; the return is the régie's outgoing transfer order."""
    virement = Virement.objects.select_for_update(of=("self",)).get(pk=virement.pk)
    if virement.statut_regie != StatutRegie.A_TRAITER:
        raise OperationInterdite("Ce virement n'est pas en attente de traitement.")
    if not motif.strip():
        raise OperationInterdite("Le motif du retour est obligatoire.")
    regie.verifier_droits(
        auteur, virement.etablissement, "regie.passer_ecriture", "retourner un virement"
    )
    virement.statut_regie = StatutRegie.RETOURNE
    virement.save(update_fields=["statut_regie"])
    journal(virement, "regisseur", StatutRegie.A_TRAITER, StatutRegie.RETOURNE, motif, auteur)
    courriels.virement_retourne(virement, motif.strip())
    return virement
