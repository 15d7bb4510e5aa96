"""The provider's state machine: what the provider says about a payment, applied under a
row lock, and the crediting of the compte nominatif when the money is executed."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from permis.selectors import permis_valide_pour_virement
from regie import services as regie
from regie.exceptions import (
    EcritureDejaPassee,
    OperationInterdite,
    PlafondDepasse,
    SubsidesInterdits,
)
from regie.selectors import motif_retenue_credit
from socle.dates import aujourdhui
from socle.transactions import atomique, inserer_et_mettre_a_jour

from ..fournisseurs import fournisseur as fournisseur_par_nom
from ..fournisseurs.base import EtatPaiement
from ..models import (
    RANG_STATUT,
    STATUTS_FINAUX,
    EvenementVirement,
    StatutPaiement,
    StatutRegie,
    Virement,
)
from . import courriels
from .commun import DELAI_CREATION, autorisation_d422_pour, emetteur_de, etape, journal

AUTEUR_SYSTEME = "pecule : crédit des virements"
# Polling of non-final transfers: about 1, 5, 15, 60 minutes, then every 4 hours, 3 days.
CALENDRIER_VERIFICATION = [
    datetime.timedelta(minutes=1),
    datetime.timedelta(minutes=5),
    datetime.timedelta(minutes=15),
    datetime.timedelta(minutes=60),
]
INTERVALLE_VERIFICATION_ENSUITE = datetime.timedelta(hours=4)
DUREE_SUIVI = datetime.timedelta(days=3)


def prochaine_verification(virement: Virement, maintenant: datetime.datetime):
    if virement.est_final or maintenant - virement.cree_le > DUREE_SUIVI:
        return None
    rang = virement.verifications
    if rang < len(CALENDRIER_VERIFICATION):
        return virement.cree_le + sum(CALENDRIER_VERIFICATION[: rang + 1], datetime.timedelta())
    return maintenant + INTERVALLE_VERIFICATION_ENSUITE


@atomique
def appliquer_etat(*, virement: Virement, etat: EtatPaiement, origine: str) -> Virement:
    """Apply the provider's status under a row lock: final statuses never change, a lower
    rank is ignored, a success after a failure is flagged for a régisseur, and the move
    to `execute` credits the account in the same transaction.

    In the fewest statements: the transfer is locked once with the detainee, the
    establishment and the relative it needs (`of=("self",)`: only its row is locked),
    the crediting is done on the objects already read, the transfer is written once and
    its history steps in one INSERT. It raises nothing of its own after writing, so inside
    the caller's transaction it opens no savepoint (`socle.transactions.atomique`)."""
    virement = (
        Virement.objects.select_for_update(of=("self",))
        .select_related("detenu__etablissement", "detenu__compte", "etablissement", "proche")
        .get(pk=virement.pk)
    )
    actuel, nouveau = virement.statut_paiement, etat.statut
    maintenant = timezone.now()
    etapes: list[EvenementVirement] = []
    if origine == "interrogation":
        virement.verifications += 1
    champs = {"verifications", "prochaine_verification", "statut_brut"}
    virement.statut_brut = etat.statut_brut[:60]
    if etat.iban_payeur and not virement.iban_payeur:
        virement.iban_payeur = etat.iban_payeur
        champs.add("iban_payeur")
    if actuel in STATUTS_FINAUX:
        if (
            nouveau == StatutPaiement.EXECUTE
            and actuel != StatutPaiement.EXECUTE
            and not virement.a_verifier
        ):
            virement.a_verifier = True
            champs.add("a_verifier")
            etapes.append(
                etape(
                    virement,
                    origine,
                    actuel,
                    nouveau,
                    "Succès annoncé après un échec : non appliqué.",
                )
            )
    elif RANG_STATUT[nouveau] > RANG_STATUT[actuel]:
        virement.statut_paiement = nouveau
        virement.motif = etat.motif[:300]
        champs |= {"statut_paiement", "motif"}
        etapes.append(etape(virement, origine, actuel, nouveau, etat.motif))
        if nouveau == StatutPaiement.EXECUTE:
            virement.execute_le = maintenant
            virement.statut_regie = StatutRegie.A_CREDITER
            champs |= {"execute_le", "statut_regie"}
        elif nouveau == StatutPaiement.REFUSE:
            courriels.virement_refuse(virement)
    virement.prochaine_verification = prochaine_verification(virement, maintenant)
    if virement.statut_regie == StatutRegie.A_CREDITER:
        champs |= _crediter(virement, etapes)
    if etapes:  # the transfer and its history steps in one statement
        inserer_et_mettre_a_jour(etapes, virement, sorted(champs))
    else:
        virement.save(update_fields=sorted(champs))
    return virement


def _crediter(virement: Virement, etapes: list[EvenementVirement]) -> set[str]:
    """Credit the compte nominatif (one ledger entry per transfer, whatever happens), or
    hold the transfer for the régisseur when it cannot be credited automatically. Sets
    the transfer's fields (saved by the caller, returned) and adds the history step.

    `regie.crediter_virement_proche` refuses (caps, deprivation of subsidies, account,
    duplicate source) before it writes anything, so its refusals need no savepoint here."""
    detenu = virement.detenu
    jour = aujourdhui()
    motif_attente = ""
    if detenu.libere_le is not None:
        motif_attente = "La personne détenue a été libérée."
    elif detenu.etablissement_id != virement.etablissement_id:
        motif_attente = "La personne détenue a été transférée dans un autre établissement."
    elif permis_valide_pour_virement(virement.proche, detenu, jour, verrouiller=True) is None:
        motif_attente = "Le permis de visite n'est plus actif."
    else:
        # The chef's vigilance decision to hold this sender's credits (D. 339), if any.
        motif_attente = motif_retenue_credit(detenu, emetteur_de(virement.proche))
    ecriture = None
    if not motif_attente:
        try:
            ecriture = regie.crediter_virement_proche(
                compte=detenu.compte,
                montant=virement.montant,
                source=f"virement:{virement.reference}",
                emetteur=emetteur_de(virement.proche),
                motif=f"Virement {virement.reference} de {virement.proche.fc_given_name} "
                f"{virement.proche.fc_family_name}",
                auteur_systeme=AUTEUR_SYSTEME,
                date_operation=jour,
                autorisation=autorisation_d422_pour(virement.proche, detenu),
            )
        except EcritureDejaPassee as exc:
            ecriture = exc.details["ecriture"]
        except (PlafondDepasse, SubsidesInterdits, OperationInterdite) as exc:
            motif_attente = str(exc)
    if ecriture is not None:
        virement.statut_regie = StatutRegie.CREDITE
        virement.ecriture = ecriture
        etapes.append(
            etape(
                virement,
                "credit",
                StatutRegie.A_CREDITER,
                StatutRegie.CREDITE,
                f"écriture {ecriture.pk}",
            )
        )
        courriels.virement_credite(virement)
        return {"statut_regie", "ecriture"}
    virement.statut_regie = StatutRegie.A_TRAITER
    virement.motif_a_traiter = motif_attente[:300]
    etapes.append(
        etape(virement, "credit", StatutRegie.A_CREDITER, StatutRegie.A_TRAITER, motif_attente)
    )
    return {"statut_regie", "motif_a_traiter"}


def actualiser_virement(*, virement: Virement, origine: str) -> Virement:
    """Ask the provider for the payment's status and apply it: the one way every caller
    (the relative's return, a notification, the poller) learns a payment's outcome.
    Raises ErreurFournisseur when the provider cannot answer."""
    etat = fournisseur_par_nom(virement.fournisseur).get_payment(virement.id_fournisseur)
    return appliquer_etat(virement=virement, etat=etat, origine=origine)


MOTIF_JAMAIS_CREE = (
    "Le prestataire de paiement n'a pas pu créer ce paiement : aucun virement n'a été réalisé."
)


def clore_virements_jamais_crees(maintenant: datetime.datetime | None = None) -> list[int]:
    """Close as cancelled the transfers whose payment the provider never created (it was
    unreachable, or the process died while asking): no provider id and no attempt for
    DELAI_CREATION. They already stopped counting against the caps; this keeps their
    status honest in the relative's history and the back-office, and a late retry of the
    same form is refused. Returns their ids."""
    maintenant = maintenant or timezone.now()
    clos = []
    with transaction.atomic():
        virements = (
            Virement.objects.select_for_update(skip_locked=True)
            .filter(
                statut_paiement=StatutPaiement.INITIE,
                id_fournisseur__isnull=True,
                maj_le__lte=maintenant - DELAI_CREATION,
            )
            .exclude(creation_en_cours_depuis__gt=maintenant - DELAI_CREATION)
        )
        for virement in virements:
            virement.statut_paiement = StatutPaiement.ANNULE
            virement.motif = MOTIF_JAMAIS_CREE
            virement.prochaine_verification = virement.creation_en_cours_depuis = None
            virement.save(
                update_fields=[
                    "statut_paiement",
                    "motif",
                    "prochaine_verification",
                    "creation_en_cours_depuis",
                ]
            )
            journal(
                virement, "systeme", StatutPaiement.INITIE, StatutPaiement.ANNULE, MOTIF_JAMAIS_CREE
            )
            clos.append(virement.pk)
    return clos
