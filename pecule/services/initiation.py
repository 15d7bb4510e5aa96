"""« Réaliser le virement »: the checks (permit, detainee, amount, caps counting pending
transfers) and the creation of the payment at the provider, once per idempotency key."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from permis.selectors import permis_valide_pour_virement
from regie import services as regie
from regie.exceptions import MontantInvalide
from regie.models import ZERO, CompteNominatif
from regie.plafonds import verifier_plafonds
from socle.dates import aujourdhui
from socle.formats import euros

from ..fournisseurs import fournisseur as fournisseur_par_nom
from ..fournisseurs.base import Payeur
from ..models import StatutPaiement, StatutRegie, Virement
from .commun import (
    VirementImpossible,
    autorisation_d422_pour,
    emetteur_de,
    journal,
    libelle_virement,
)
from .etats import CALENDRIER_VERIFICATION

MONTANT_MINIMUM = Decimal("1.00")


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


def initier_virement(*, proche, detenu, montant, cle_idempotence: str, url_retour: str) -> Virement:
    """« Réaliser le virement »: one payment per idempotency key, whatever the number of
    clicks or reloads. Raises VirementImpossible, PlafondDepasse, MontantInvalide, or
    ErreurFournisseur (the provider is unreachable: retry with the same key)."""
    montant = regie.montant_valide(montant)
    deja = Virement.objects.filter(cle_idempotence=cle_idempotence).first()
    if deja is not None and deja.proche_id != proche.pk:
        raise VirementImpossible("Ce formulaire n'est plus valable : recommencez.")
    if deja is None:
        jour = aujourdhui()
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
                journal(deja, "initiation", "", StatutPaiement.INITIE, f"{euros(montant)}")
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
