"""Emails to the relative, written to the outbox in the same transaction as the change
they announce. Bodies are templates (templates/pecule/courriels/). The task
`pecule.tasks.envoyer_courriels` sends each email exactly once; it drains the outbox in
batches (every minute under beat), so no task is queued per email."""

from django.template.loader import render_to_string

from socle.transactions import inserer_sauf_doublon

from ..models import CourrielSortant, Virement


def _ecrire(virement: Virement, type_: str, sujet: str, **contexte) -> None:
    if not virement.proche.email:
        return
    corps = render_to_string(
        f"pecule/courriels/{type_}.txt",
        {
            "virement": virement,
            "destinataire": f"{virement.detenu.prenoms} {virement.detenu.nom}",
            **contexte,
        },
    ).strip()
    # One INSERT … ON CONFLICT DO NOTHING: an email already in the outbox stays as it is.
    inserer_sauf_doublon(
        CourrielSortant(
            cle=f"{type_}:{virement.reference}",
            destinataire=virement.proche.email,
            sujet=sujet,
            corps=corps,
        )
    )


def virement_credite(virement: Virement) -> None:
    _ecrire(virement, "credite", f"Votre virement {virement.reference} a été crédité")


def virement_refuse(virement: Virement) -> None:
    _ecrire(
        virement, "refuse", f"Votre virement {virement.reference} a été refusé par votre banque"
    )


def virement_retourne(virement: Virement, motif: str, *, execute_le) -> None:
    """Once the bank has executed the return order: the reason and the day."""
    _ecrire(
        virement,
        "retourne",
        f"Votre virement {virement.reference} vous a été renvoyé",
        motif=motif,
        execute_le=execute_le,
        iban=virement.ordre_retour.beneficiaire_iban if virement.ordre_retour_id else "",
    )
