"""Emails to the relative, written to the outbox in the same transaction as the change
they announce. Bodies are templates (templates/pecule/courriels/). The task
`pecule.tasks.envoyer_courriels` sends each email exactly once; it is queued by name
after the commit, so this module does not import the tasks."""

from django.template.loader import render_to_string

from socle.taches import publier_apres_commit

from ..models import CourrielSortant, Virement

TACHE_ENVOI = "pecule.tasks.envoyer_courriels"


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
    CourrielSortant.objects.get_or_create(
        cle=f"{type_}:{virement.reference}",
        defaults={"destinataire": virement.proche.email, "sujet": sujet, "corps": corps},
    )
    publier_apres_commit(TACHE_ENVOI)


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
