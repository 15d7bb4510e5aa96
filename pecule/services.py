"""Relatives' transfers: initiation, the provider state machine, crediting, the régisseur's
decisions on held transfers. Keyword-only functions; views, tasks and the admin call them.
"""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from permis.selectors import permis_valide_pour_virement
from regie import services as regie
from regie.exceptions import (
    EcritureDejaPassee,
    MontantInvalide,
    OperationInterdite,
    PlafondDepasse,
    SubsidesInterdits,
)
from regie.models import ZERO, AutorisationD422, CompteNominatif, NatureEcriture, StatutD422
from regie.plafonds import verifier_plafonds
from socle.erreurs import ErreurMetier
from socle.formats import euros

from . import courriels
from .fournisseurs import fournisseur as fournisseur_par_nom
from .fournisseurs.base import EtatPaiement, Payeur
from .models import (
    RANG_STATUT,
    STATUTS_FINAUX,
    EvenementVirement,
    StatutPaiement,
    StatutRegie,
    Virement,
)

logger = logging.getLogger(__name__)

MONTANT_MINIMUM = Decimal("1.00")
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


class VirementImpossible(ErreurMetier):
    """The relative cannot send this transfer (permit, detainee, amount): French message."""

    code = "virement_impossible"


def emetteur_de(proche) -> str:
    """The opaque sender reference the régie counts per-sender caps with."""
    return f"proche:{proche.pk}"


def libelle_virement(virement: Virement) -> str:
    """Remittance text: écrou, detainee's name and the reference, within 140 characters."""
    detenu = virement.detenu
    texte = f"ECROU {detenu.numero_ecrou} {detenu.nom} {detenu.prenoms} {virement.reference}"
    return texte[:140]


# --- Initiation ------------------------------------------------------------------------


def montants_en_attente(compte: CompteNominatif, jour: datetime.date, proche=None) -> Decimal:
    """Transfers initiated or executed but not yet credited this month (counted against the
    caps at initiation, so that several pending transfers cannot pass a cap together)."""
    virements = Virement.objects.filter(
        detenu_id=compte.detenu_id, cree_le__date__year=jour.year, cree_le__date__month=jour.month
    ).filter(
        Q(statut_paiement__in=[StatutPaiement.INITIE, StatutPaiement.AUTORISE])
        | Q(statut_paiement=StatutPaiement.EXECUTE, statut_regie=StatutRegie.A_CREDITER)
    )
    if proche is not None:
        virements = virements.filter(proche=proche)
    return virements.aggregate(total=Sum("montant"))["total"] or ZERO


def verifier_virement_possible(*, proche, detenu, montant: Decimal, jour: datetime.date):
    """Raise VirementImpossible / PlafondDepasse / MontantInvalide; return the permit."""
    if montant < MONTANT_MINIMUM:
        raise MontantInvalide(f"Le montant minimum d'un virement est de {euros(MONTANT_MINIMUM)}.")
    permis = permis_valide_pour_virement(proche, detenu, jour)
    if permis is None:
        raise VirementImpossible(
            "Ce permis de visite ne permet pas d'alimenter le pécule : il n'est pas actif, "
            "ou la personne détenue n'est plus dans cet établissement."
        )
    if detenu.est_prive_de_subsides(jour):
        raise VirementImpossible(
            "Cette personne détenue ne peut pas recevoir d'argent pour le moment "
            f"(jusqu'au {detenu.prive_de_subsides_jusquau:%d/%m/%Y})."
        )
    compte = detenu.compte
    if autorisation_d422_pour(proche, detenu) is None:
        verifier_plafonds(
            compte=compte,
            montant=montant,
            emetteur=emetteur_de(proche),
            jour=jour,
            en_attente=montants_en_attente(compte, jour),
            en_attente_emetteur=montants_en_attente(compte, jour, proche),
        )
    return permis


def autorisation_d422_pour(proche, detenu) -> AutorisationD422 | None:
    """A D.422 authorisation granted for money from this relative, if any."""
    return (
        AutorisationD422.objects.filter(
            detenu=detenu, statut=StatutD422.AUTORISEE, emetteur_ref=emetteur_de(proche)
        )
        .order_by("decidee_le")
        .first()
    )


def initier_virement(*, proche, detenu, montant, cle_idempotence: str, url_retour: str) -> Virement:
    """« Réaliser le virement »: one payment per idempotency key, whatever the number of
    clicks or reloads. Raises VirementImpossible, PlafondDepasse, MontantInvalide, or
    ErreurFournisseur (the provider is unreachable: retry with the same key)."""
    montant = regie.montant_valide(montant)
    deja = Virement.objects.filter(cle_idempotence=cle_idempotence).first()
    if deja is not None and deja.proche_id != proche.pk:
        raise VirementImpossible("Ce formulaire n'est plus valable : recommencez.")
    if deja is None:
        jour = timezone.localdate()
        with transaction.atomic():
            # The account lock serialises initiations for one detainee (pending amounts).
            CompteNominatif.objects.select_for_update(of=("self",)).get(detenu=detenu)
            deja = Virement.objects.filter(cle_idempotence=cle_idempotence).first()
            if deja is None:
                permis = verifier_virement_possible(
                    proche=proche, detenu=detenu, montant=montant, jour=jour
                )
                deja = Virement.objects.create(
                    cle_idempotence=cle_idempotence,
                    proche=proche,
                    permis=permis,
                    detenu=detenu,
                    etablissement=detenu.etablissement,
                    montant=montant,
                    fournisseur=settings.PECULE_FOURNISSEUR_DEFAUT,
                )
                _journal(deja, "initiation", "", StatutPaiement.INITIE, f"{euros(montant)}")
    if deja.id_fournisseur:
        return deja
    return _creer_chez_le_fournisseur(deja, url_retour)


def _creer_chez_le_fournisseur(virement: Virement, url_retour: str) -> Virement:
    fournisseur = fournisseur_par_nom(virement.fournisseur)
    etablissement = virement.etablissement
    paiement = fournisseur.create_payment(
        montant=virement.montant,
        creancier_nom=etablissement.regie_titulaire,
        creancier_iban=etablissement.regie_iban,
        reference_bout_en_bout=virement.reference,
        libelle=libelle_virement(virement),
        payeur=Payeur(
            nom=f"{virement.proche.fc_given_name} {virement.proche.fc_family_name}",
            email=virement.proche.email,
        ),
        url_retour=url_retour,
        cle_idempotence=virement.cle_idempotence,
    )
    with transaction.atomic():
        virement = Virement.objects.select_for_update().get(pk=virement.pk)
        if not virement.id_fournisseur:
            virement.id_fournisseur = paiement.id_fournisseur
            virement.url_banque = paiement.url_redirection
            virement.expire_le = paiement.expire_le
            virement.prochaine_verification = timezone.now() + CALENDRIER_VERIFICATION[0]
            virement.save(
                update_fields=[
                    "id_fournisseur",
                    "url_banque",
                    "expire_le",
                    "prochaine_verification",
                ]
            )
    return virement


# --- The state machine -----------------------------------------------------------------


def prochaine_verification(virement: Virement, maintenant: datetime.datetime):
    if virement.est_final or maintenant - virement.cree_le > DUREE_SUIVI:
        return None
    rang = virement.verifications
    if rang < len(CALENDRIER_VERIFICATION):
        return virement.cree_le + sum(CALENDRIER_VERIFICATION[: rang + 1], datetime.timedelta())
    return maintenant + INTERVALLE_VERIFICATION_ENSUITE


@transaction.atomic
def appliquer_etat(*, virement: Virement, etat: EtatPaiement, origine: str) -> Virement:
    """Apply the provider's status under a row lock: final statuses never change, a lower
    rank is ignored, a success after a failure is flagged for a régisseur, and the move
    to `execute` credits the account in the same transaction."""
    virement = Virement.objects.select_for_update(of=("self",)).get(pk=virement.pk)
    actuel, nouveau = virement.statut_paiement, etat.statut
    maintenant = timezone.now()
    if origine == "interrogation":
        virement.verifications += 1
    champs = {"verifications", "prochaine_verification", "statut_brut"}
    virement.statut_brut = etat.statut_brut[:60]
    if actuel in STATUTS_FINAUX:
        if (
            nouveau == StatutPaiement.EXECUTE
            and actuel != StatutPaiement.EXECUTE
            and not virement.a_verifier
        ):
            virement.a_verifier = True
            champs.add("a_verifier")
            _journal(
                virement, origine, actuel, nouveau, "Succès annoncé après un échec : non appliqué."
            )
    elif RANG_STATUT[nouveau] > RANG_STATUT[actuel]:
        virement.statut_paiement = nouveau
        virement.motif = etat.motif[:300]
        champs |= {"statut_paiement", "motif"}
        _journal(virement, origine, actuel, nouveau, etat.motif)
        if nouveau == StatutPaiement.EXECUTE:
            virement.execute_le = maintenant
            virement.statut_regie = StatutRegie.A_CREDITER
            champs |= {"execute_le", "statut_regie"}
        elif nouveau == StatutPaiement.REFUSE:
            courriels.virement_refuse(virement)
    virement.prochaine_verification = prochaine_verification(virement, maintenant)
    virement.save(update_fields=sorted(champs))
    if virement.statut_regie == StatutRegie.A_CREDITER:
        _crediter(virement)
    return virement


def _crediter(virement: Virement) -> None:
    """Credit the compte nominatif (one ledger entry per transfer, whatever happens), or
    hold the transfer for the régisseur when it cannot be credited automatically."""
    detenu = virement.detenu
    jour = timezone.localdate()
    motif_attente = ""
    if detenu.libere_le is not None:
        motif_attente = "La personne détenue a été libérée."
    elif detenu.etablissement_id != virement.etablissement_id:
        motif_attente = "La personne détenue a été transférée dans un autre établissement."
    elif permis_valide_pour_virement(virement.proche, detenu, jour, verrouiller=True) is None:
        motif_attente = "Le permis de visite n'est plus actif."
    ecriture = None
    if not motif_attente:
        try:
            with transaction.atomic():
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
        virement.save(update_fields=["statut_regie", "ecriture"])
        _journal(
            virement,
            "credit",
            StatutRegie.A_CREDITER,
            StatutRegie.CREDITE,
            f"écriture {ecriture.pk}",
        )
        courriels.virement_credite(virement)
    else:
        virement.statut_regie = StatutRegie.A_TRAITER
        virement.motif_a_traiter = motif_attente[:300]
        virement.save(update_fields=["statut_regie", "motif_a_traiter"])
        _journal(virement, "credit", StatutRegie.A_CREDITER, StatutRegie.A_TRAITER, motif_attente)


# --- The régisseur's decisions on held transfers ----------------------------------------


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
    _journal(virement, "regisseur", StatutRegie.A_TRAITER, StatutRegie.CREDITE, motif, auteur)
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
    _journal(virement, "regisseur", StatutRegie.A_TRAITER, StatutRegie.RETOURNE, motif, auteur)
    courriels.virement_retourne(virement, motif.strip())
    return virement


def _journal(virement, source, avant, apres, details="", auteur=None) -> None:
    EvenementVirement.objects.create(
        virement=virement, source=source, avant=avant, apres=apres, details=details, auteur=auteur
    )
