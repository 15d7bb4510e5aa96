"""The régie's own bank account (spec 05 §4): where relatives' money goes and what the
outgoing transfers debit. A change is proposed by one person and approved by another,
who is not the first; both see the old and the new value; it takes effect only once
approved, is kept in `ChangementCompteRegie`, and every staff member of the establishment
who may approve is told by email."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ..exceptions import DecisionDejaPrise, OperationInterdite, SecondRegardRequis
from ..models import ChangementCompteRegie, Etablissement, StatutChangementCompte
from .ecritures import verifier_droits
from .ordres import beneficiaire_valide, masquer
from .personnel import prevenir

PERMISSION_PROPOSER = "regie.add_changementcompteregie"
PERMISSION_APPROUVER = "regie.approuver_changementcompteregie"


def _prevenir(changement: ChangementCompteRegie, sujet: str, texte: str) -> None:
    prevenir(changement.etablissement, PERMISSION_APPROUVER, sujet, texte)


def _resume(changement: ChangementCompteRegie) -> str:
    return (
        f"Établissement : {changement.etablissement.nom}\n"
        f"Compte actuel : {changement.ancien_titulaire} – {masquer(changement.ancien_iban)}\n"
        f"Nouveau compte : {changement.nouveau_titulaire} – {masquer(changement.nouvel_iban)}\n"
        f"Motif : {changement.motif}\n"
    )


@transaction.atomic
def proposer_changement_compte(
    *, etablissement: Etablissement, titulaire: str, iban: str, motif: str, auteur
) -> ChangementCompteRegie:
    etablissement = Etablissement.objects.select_for_update().get(pk=etablissement.pk)
    verifier_droits(
        auteur, etablissement, PERMISSION_PROPOSER, "proposer un changement du compte de la régie"
    )
    compte = beneficiaire_valide(titulaire, iban)
    if not (motif or "").strip():
        raise OperationInterdite("Le motif du changement est obligatoire.")
    if compte.iban == etablissement.regie_iban and compte.nom == etablissement.regie_titulaire:
        raise OperationInterdite("C'est déjà le compte de la régie.")
    if ChangementCompteRegie.objects.filter(
        etablissement=etablissement, statut=StatutChangementCompte.PROPOSE
    ).exists():
        raise OperationInterdite(
            "Un changement du compte de la régie est déjà en attente d'approbation : il doit "
            "être approuvé ou refusé d'abord."
        )
    changement = ChangementCompteRegie.objects.create(
        etablissement=etablissement,
        ancien_titulaire=etablissement.regie_titulaire,
        ancien_iban=etablissement.regie_iban,
        nouveau_titulaire=compte.nom,
        nouvel_iban=compte.iban,
        motif=motif.strip(),
        propose_par=auteur,
    )
    _prevenir(
        changement,
        f"Pécule – changement du compte de la régie à approuver ({etablissement.nom})",
        f"{auteur.get_full_name() or auteur.get_username()} propose de changer le compte "
        "bancaire de la régie. Le changement ne prend effet qu'après l'approbation d'une "
        "autre personne, dans le back-office.\n\n" + _resume(changement),
    )
    return changement


def _verrouiller(changement: ChangementCompteRegie) -> ChangementCompteRegie:
    return (
        ChangementCompteRegie.objects.select_for_update(of=("self",))
        .select_related("etablissement")
        .get(pk=changement.pk)
    )


def _decider(changement: ChangementCompteRegie, auteur, motif: str) -> ChangementCompteRegie:
    verifier_droits(
        auteur,
        changement.etablissement,
        PERMISSION_APPROUVER,
        "décider un changement du compte de la régie",
    )
    if auteur.pk == changement.propose_par_id:
        raise SecondRegardRequis(
            "Vous avez proposé ce changement : une autre personne doit l'approuver ou le refuser."
        )
    if changement.statut != StatutChangementCompte.PROPOSE:
        raise DecisionDejaPrise(
            f"Ce changement a déjà été décidé ({changement.get_statut_display().lower()})."
        )
    changement.decide_par = auteur
    changement.decide_le = timezone.now()
    changement.motif_decision = (motif or "").strip()
    return changement


@transaction.atomic
def approuver_changement_compte(
    *, changement: ChangementCompteRegie, auteur, motif: str = ""
) -> ChangementCompteRegie:
    changement = _verrouiller(changement)
    _decider(changement, auteur, motif)
    etablissement = Etablissement.objects.select_for_update().get(pk=changement.etablissement_id)
    if (etablissement.regie_iban, etablissement.regie_titulaire) != (
        changement.ancien_iban,
        changement.ancien_titulaire,
    ):
        raise OperationInterdite(
            "Le compte de la régie a changé depuis la proposition : refusez-la et proposez à "
            "nouveau."
        )
    changement.statut = StatutChangementCompte.APPROUVE
    changement.save(update_fields=["statut", "decide_par", "decide_le", "motif_decision"])
    etablissement.regie_iban = changement.nouvel_iban
    etablissement.regie_titulaire = changement.nouveau_titulaire
    etablissement.save(update_fields=["regie_iban", "regie_titulaire"])
    _prevenir(
        changement,
        f"Pécule – le compte de la régie a changé ({etablissement.nom})",
        f"{auteur.get_full_name() or auteur.get_username()} a approuvé le changement du compte "
        "bancaire de la régie. Les nouveaux virements des proches et les remises de "
        "virements utilisent désormais le nouveau compte.\n\n" + _resume(changement),
    )
    return changement


@transaction.atomic
def refuser_changement_compte(
    *, changement: ChangementCompteRegie, auteur, motif: str
) -> ChangementCompteRegie:
    changement = _verrouiller(changement)
    if not (motif or "").strip():
        raise OperationInterdite("Le motif du refus est obligatoire.")
    _decider(changement, auteur, motif)
    changement.statut = StatutChangementCompte.REFUSE
    changement.save(update_fields=["statut", "decide_par", "decide_le", "motif_decision"])
    _prevenir(
        changement,
        f"Pécule – changement du compte de la régie refusé ({changement.etablissement.nom})",
        f"{auteur.get_full_name() or auteur.get_username()} a refusé le changement proposé. "
        "Le compte de la régie reste inchangé.\n\n" + _resume(changement),
    )
    return changement
