"""The régisseur's decisions on a transfer held « à traiter »: credit it, or return it to
the sender. A returned transfer whose return order was refused or rejected is back in
the queue (`Virement.est_a_traiter`) and can be decided again."""

from __future__ import annotations

from django.db import transaction

from regie import services as regie
from regie.exceptions import CoordonneesBancairesInvalides, OperationInterdite
from regie.models import NatureEcriture

from ..models import StatutRegie, Virement
from . import courriels
from .commun import autorisation_d422_pour, emetteur_de, journal
from .selecteurs import compte_d_origine


def _a_traiter(virement: Virement) -> Virement:
    virement = (
        Virement.objects.select_for_update(of=("self",))
        .select_related("detenu", "etablissement", "proche", "ordre_retour")
        .get(pk=virement.pk)
    )
    if not virement.est_a_traiter:
        raise OperationInterdite("Ce virement n'est pas en attente de traitement.")
    return virement


@transaction.atomic
def crediter_virement_a_traiter(*, virement: Virement, auteur, motif: str) -> Virement:
    """The régisseur credits a held transfer to the detainee's account, wherever the
    detainee now is: a human decision, so the caps are not applied again; a D.422
    authorisation for this sender still applies, up to what remains of it (spec 01 §9).
    When the detainee was transferred, the money follows by an order from the régie that
    received it to the detainee's current régie."""
    virement = _a_traiter(virement)
    if not motif.strip():
        raise OperationInterdite("Le motif de la décision est obligatoire.")
    detenu = virement.detenu
    source = f"virement:{virement.reference}"
    libelle = f"Virement {virement.reference} crédité par décision du régisseur : {motif.strip()}"
    autorisation = autorisation_d422_pour(virement.proche, detenu)
    if autorisation is not None:
        ecriture = regie.encaisser_subside_d422(
            autorisation=autorisation,
            montant=virement.montant,
            source=source,
            motif=libelle,
            auteur=auteur,
            emetteur=emetteur_de(virement.proche),
        )
    else:
        ecriture = regie.encaisser_recette(
            compte=detenu.compte,
            montant=virement.montant,
            nature=NatureEcriture.SUBSIDE_PROCHE,
            source=source,
            motif=libelle,
            auteur=auteur,
            emetteur=emetteur_de(virement.proche),
        )
    if ecriture.etablissement_id != virement.etablissement_id:
        regie.preparer_versement_entre_regies(
            ecriture=ecriture,
            origine=virement.etablissement,
            auteur=auteur,
            reference=virement.reference,
        )
    avant = virement.statut_regie
    virement.statut_regie = StatutRegie.CREDITE
    virement.ecriture = ecriture
    virement.save(update_fields=["statut_regie", "ecriture"])
    journal(virement, "regisseur", avant, StatutRegie.CREDITE, motif, auteur)
    courriels.virement_credite(virement)
    return virement


@transaction.atomic
def retourner_virement(
    *, virement: Virement, auteur, motif: str, iban: str = "", titulaire: str = ""
) -> Virement:
    """The régisseur returns a held transfer to the sender: it never reached an account,
    so no entry is reversed; the régie pays it back by a payment order (validated by a
    second person) to the account the money came from: the one typed here, else the
    debtor account of the régie's bank statement, else the payer account the provider
    reported. The relative is told when the bank has executed it."""
    virement = _a_traiter(virement)
    regie.verifier_droits(
        auteur, virement.etablissement, "regie.passer_ecriture", "retourner un virement"
    )
    motif = motif.strip()
    if not motif:
        raise OperationInterdite("Le motif du retour est obligatoire.")
    origine = compte_d_origine(virement)
    iban = iban.strip() or origine.iban
    if not iban:
        raise CoordonneesBancairesInvalides(
            "Le compte d'où vient l'argent n'est pas connu : importez le relevé bancaire de la "
            "régie où figure ce virement, ou saisissez l'IBAN de l'émetteur.",
            champ="iban",
        )
    beneficiaire = regie.beneficiaire_valide(titulaire.strip() or origine.titulaire, iban)
    rang = virement.evenements.filter(apres=StatutRegie.RETOURNE).count() + 1
    ordre = regie.preparer_retour_virement(
        compte=virement.detenu.compte,
        etablissement=virement.etablissement,
        montant=virement.montant,
        beneficiaire=beneficiaire,
        reference_virement=virement.reference,
        motif=motif,
        source=f"virement:{virement.reference}:retour:{rang}",
        auteur=auteur,
    )
    avant = virement.statut_regie
    virement.statut_regie = StatutRegie.RETOURNE
    virement.ordre_retour = ordre
    virement.motif_retour = motif[:300]
    virement.save(update_fields=["statut_regie", "ordre_retour", "motif_retour"])
    journal(
        virement,
        "regisseur",
        avant,
        StatutRegie.RETOURNE,
        f"{motif} – ordre {ordre.reference} vers {regie.masquer_iban(beneficiaire.iban)}",
        auteur,
    )
    return virement
