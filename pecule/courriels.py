"""Emails to the relative, written to the outbox in the same transaction as the change
they announce; `tasks.envoyer_courriels` sends each exactly once."""

from django.db import transaction

from socle.formats import euros

from .models import CourrielSortant, Virement


def _ecrire(virement: Virement, type_: str, sujet: str, corps: str) -> None:
    if not virement.proche.email:
        return
    CourrielSortant.objects.get_or_create(
        cle=f"{type_}:{virement.reference}",
        defaults={"destinataire": virement.proche.email, "sujet": sujet, "corps": corps},
    )
    from .tasks import envoyer_courriels

    transaction.on_commit(envoyer_courriels.publier, robust=True)


def _destinataire(virement: Virement) -> str:
    return f"{virement.detenu.prenoms} {virement.detenu.nom}"


SIGNATURE = "\n\nCe message est envoyé automatiquement par le portail Pécule ; merci de ne pas y répondre.\nPour toute question : page Contact du portail."


def virement_credite(virement: Virement) -> None:
    _ecrire(
        virement,
        "credite",
        f"Votre virement {virement.reference} a été crédité",
        f"Bonjour,\n\nVotre virement de {euros(virement.montant)} à destination de "
        f"{_destinataire(virement)} ({virement.etablissement.nom}) a été crédité sur son "
        f"compte nominatif.\nRéférence : {virement.reference}" + SIGNATURE,
    )


def virement_refuse(virement: Virement) -> None:
    _ecrire(
        virement,
        "refuse",
        f"Votre virement {virement.reference} a été refusé par votre banque",
        f"Bonjour,\n\nVotre banque a refusé le virement de {euros(virement.montant)} à destination "
        f"de {_destinataire(virement)}. Aucune somme n'a été débitée de votre compte.\n"
        f"Référence : {virement.reference}" + SIGNATURE,
    )


def virement_retourne(virement: Virement, motif: str) -> None:
    _ecrire(
        virement,
        "retourne",
        f"Votre virement {virement.reference} vous est retourné",
        f"Bonjour,\n\nLe virement de {euros(virement.montant)} à destination de "
        f"{_destinataire(virement)} n'a pas pu être crédité et vous est retourné par la régie de "
        f"{virement.etablissement.nom}.\nMotif : {motif}\nRéférence : {virement.reference}"
        + SIGNATURE,
    )
