"""Reads the payments' services share (no writes here)."""

from __future__ import annotations

from dataclasses import dataclass

from ..models import STATUTS_RAPPROCHES, LigneReleve, Virement


@dataclass(frozen=True, slots=True)
class CompteOrigine:
    """Where a relative's money came from, and how we know it."""

    titulaire: str
    iban: str
    source: str  # "releve" (the régie's bank statement), "prestataire", or ""


def compte_d_origine(virement: Virement) -> CompteOrigine:
    """The account a transfer came from: the debtor account of the matched line of the
    régie's bank statement (what the bank saw), else the payer account the provider
    reported; the holder is the statement's debtor name, else the relative's
    FranceConnect name."""
    nom = f"{virement.proche.fc_given_name} {virement.proche.fc_family_name}".strip()
    ligne = (
        LigneReleve.objects.filter(virement=virement, statut_rapprochement__in=STATUTS_RAPPROCHES)
        .exclude(iban_debiteur="")
        .order_by("pk")
        .first()
    )
    if ligne is not None:
        return CompteOrigine(ligne.nom_debiteur or nom, ligne.iban_debiteur, "releve")
    if virement.iban_payeur:
        return CompteOrigine(nom, virement.iban_payeur, "prestataire")
    return CompteOrigine(nom, "", "")
