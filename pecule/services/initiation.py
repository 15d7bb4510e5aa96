"""« Réaliser le virement »: the checks (permit, detainee, amount, caps counting pending
transfers: `en_attente`) and the creation of the payment at the provider, once per
idempotency key, a pending one of the same amount taken up again."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from permis.selectors import permis_valide_pour_virement
from regie import services as regie
from regie.exceptions import MontantInvalide
from regie.models import CompteNominatif
from regie.plafonds import verifier_plafonds
from socle.dates import aujourdhui
from socle.formats import euros

from ..fournisseurs import fournisseur as fournisseur_par_nom
from ..fournisseurs.base import ErreurFournisseur, Payeur
from ..models import StatutPaiement, Virement
from .commun import VirementImpossible, emetteur_de, journal, libelle_virement
from .en_attente import en_attente
from .etats import CALENDRIER_VERIFICATION, actualiser_virement

MONTANT_MINIMUM = Decimal("1.00")


def verifier_virement_possible(
    *, proche, detenu, montant: Decimal, jour: datetime.date, exclure: int | None = None
):
    """Raise VirementImpossible / PlafondDepasse / MontantInvalide; return the permit.

    The caps count what is pending (`en_attente`, `exclure` being a transfer checked
    again). Up to what the sender's D.422 authorisation still covers, the amount escapes
    the caps (the head's decision stands in for them); the rest is checked like any
    transfer, the cap per transfer included."""
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
    attente = en_attente(detenu=detenu, proche=proche, exclure=exclure)
    excedent = montant - min(montant, attente.reste_d422)
    if excedent:
        verifier_plafonds(
            compte=detenu.compte,
            montant=excedent,
            emetteur=emetteur_de(proche),
            jour=jour,
            en_attente=attente.detenu,
            en_attente_emetteur=attente.emetteur,
        )
    return permis


FORMULAIRE_PERIME = "Ce formulaire n'est plus valable : recommencez."


def initier_virement(*, proche, detenu, montant, cle_idempotence: str, url_retour: str) -> Virement:
    """« Réaliser le virement »: one payment per idempotency key, whatever the number of
    clicks or reloads; and, for a new key, the relative's payment of the same amount to
    the same detainee still awaiting their approval at the bank is taken up again
    (`_paiement_a_reprendre`) rather than a second one created. Raises
    VirementImpossible, PlafondDepasse, MontantInvalide, or ErreurFournisseur (the
    provider is unreachable: retry with the same key)."""
    montant = regie.montant_valide(montant)
    deja = Virement.objects.filter(cle_idempotence=cle_idempotence).first()
    if deja is not None and deja.proche_id != proche.pk:
        raise VirementImpossible(FORMULAIRE_PERIME)
    if deja is not None and deja.id_fournisseur:
        return deja
    if deja is None:
        repris = _paiement_a_reprendre(proche=proche, detenu=detenu, montant=montant)
        if repris is not None:
            return repris
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
                creation_en_cours_depuis=timezone.now(),
            )
            journal(deja, "initiation", "", StatutPaiement.INITIE, f"{euros(montant)}")
        elif not deja.id_fournisseur:
            # Another attempt after the provider failed: the payment was never created and
            # stopped counting; it is checked again like a new one.
            if deja.est_final:
                raise VirementImpossible(FORMULAIRE_PERIME)
            verifier_virement_possible(
                proche=proche, detenu=detenu, montant=deja.montant, jour=jour, exclure=deja.pk
            )
            deja.creation_en_cours_depuis = timezone.now()
            deja.save(update_fields=["creation_en_cours_depuis", "maj_le"])
    if deja.id_fournisseur:
        return deja
    return _creer_chez_le_fournisseur(deja, url_retour)


def _paiement_a_reprendre(*, proche, detenu, montant: Decimal) -> Virement | None:
    """Back from the bank's page, the relative submits the amount form again (a new
    form, a new key): their payment of the same amount to the same detainee, created at
    the provider and still awaiting their approval, is taken up again instead of a
    second one that would hold the cap until it expires (issue 13). The provider is
    asked first: a payment approved, refused or expired meanwhile is not taken up."""
    candidat = (
        Virement.objects.filter(
            proche=proche,
            detenu=detenu,
            montant=montant,
            statut_paiement=StatutPaiement.INITIE,
            id_fournisseur__isnull=False,
            expire_le__gt=timezone.now(),
        )
        .order_by("-cree_le", "-pk")
        .first()
    )
    if candidat is None:
        return None
    verifier_virement_possible(
        proche=proche, detenu=detenu, montant=montant, jour=aujourdhui(), exclure=candidat.pk
    )
    candidat = actualiser_virement(virement=candidat, origine="reprise")
    if candidat.statut_paiement != StatutPaiement.INITIE or candidat.expire_le <= timezone.now():
        return None
    journal(
        candidat,
        "reprise",
        StatutPaiement.INITIE,
        StatutPaiement.INITIE,
        "Formulaire envoyé de nouveau : le paiement en attente de validation est repris.",
    )
    return candidat


def _creer_chez_le_fournisseur(virement: Virement, url_retour: str) -> Virement:
    """Create the payment at the provider. While the call runs the transfer counts against
    the caps (`creation_en_cours_depuis`); if the provider fails, it stops counting at
    once (the relative is told nothing was done) and the error is raised."""
    fournisseur = fournisseur_par_nom(virement.fournisseur)
    etablissement = virement.etablissement
    try:
        paiement = _demander_au_fournisseur(fournisseur, virement, etablissement, url_retour)
    except ErreurFournisseur as exc:
        with transaction.atomic():
            virement = Virement.objects.select_for_update().get(pk=virement.pk)
            if not virement.id_fournisseur:
                virement.creation_en_cours_depuis = None
                virement.save(update_fields=["creation_en_cours_depuis", "maj_le"])
                journal(
                    virement,
                    "initiation",
                    virement.statut_paiement,
                    virement.statut_paiement,
                    f"Le prestataire n'a pas créé le paiement : {str(exc)[:200]}",
                )
        raise
    with transaction.atomic():
        virement = Virement.objects.select_for_update().get(pk=virement.pk)
        perime = virement.est_final  # closed meanwhile as never created (very late answer)
        if not virement.id_fournisseur:
            virement.id_fournisseur = paiement.id_fournisseur
            virement.url_banque = paiement.url_redirection
            virement.expire_le = paiement.expire_le
            virement.creation_en_cours_depuis = None
            virement.prochaine_verification = timezone.now() + CALENDRIER_VERIFICATION[0]
            virement.save(
                update_fields=[
                    "id_fournisseur",
                    "url_banque",
                    "expire_le",
                    "creation_en_cours_depuis",
                    "prochaine_verification",
                ]
            )
    if perime:
        # Kept for the notifications to find it; a success would be flagged for a person.
        raise VirementImpossible(FORMULAIRE_PERIME)
    return virement


def _demander_au_fournisseur(fournisseur, virement, etablissement, url_retour):
    return fournisseur.create_payment(
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
