"""Receipts: those subject to répartition (relatives' subsidies, wages…), a relative's
transfer checked against the caps, the capital of a work-accident rent."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction

from socle.dates import aujourdhui
from socle.transactions import atomique, ecritures_engagees

from ..exceptions import (
    SubsidesInterdits,
)
from ..models import (
    ZERO,
    AutorisationD422,
    CompteNominatif,
    Contrepartie,
    Ecriture,
    NatureEcriture,
    Partie,
)
from ..plafonds import verifier_plafonds
from .d422 import (
    encaisser_subside_d422,
    montant_recu_d422,
)
from .ecritures import (
    NATURES_RECETTES_SOUMISES,
    _compte_actif,
    _mouvement_simple,
    _passer_recette,
    _verrouiller,
    montant_valide,
    verifier_droits,
)
from .vigilance import examiner_recette, regles_de


@atomique
def encaisser_recette(
    *,
    compte: CompteNominatif,
    montant,
    nature: str,
    source: str,
    motif: str,
    auteur=None,
    auteur_systeme: str = "",
    date_operation: datetime.date | None = None,
    piece: str = "",
    emetteur: str = "",
) -> Ecriture:
    """A receipt subject to répartition (section 3): relatives' subsidies, wages, training
    pay, cash at committal, any other sum. It counts in the month's counter.

    Its refusals (amount, rights, account, duplicate source) come before anything is
    written: inside a caller's transaction it opens no savepoint (`socle.transactions`)."""
    montant = montant_valide(montant)
    if nature not in NATURES_RECETTES_SOUMISES:
        raise ValueError(f"{nature!r} is not a subject receipt.")
    jour = date_operation or aujourdhui()
    compte = _verrouiller(compte.pk)
    verifier_droits(
        auteur, compte.detenu.etablissement, "regie.passer_ecriture", "passer une écriture"
    )
    _compte_actif(compte)
    return _encaisser(
        compte,
        montant=montant,
        nature=nature,
        source=source,
        motif=motif,
        auteur=auteur,
        auteur_systeme=auteur_systeme,
        jour=jour,
        piece=piece,
        emetteur=emetteur,
    )


def _encaisser(compte: CompteNominatif, *, montant: Decimal, jour, **ecriture) -> Ecriture:
    """Book a subject receipt on the locked account, then let vigilance look at it."""
    ecriture = _passer_recette(compte, montant=montant, date_operation=jour, **ecriture)
    with ecritures_engagees():
        # Vigilance: may open alerts, never refuses. The rules came with the locked account.
        examiner_recette(ecriture, regles=regles_de(compte.detenu.etablissement))
    return ecriture


@atomique
def crediter_virement_proche(
    *,
    compte: CompteNominatif,
    montant,
    source: str,
    emetteur: str,
    motif: str,
    auteur_systeme: str,
    date_operation: datetime.date | None = None,
    autorisation: AutorisationD422 | None = None,
) -> Ecriture:
    """Credit a relative's transfer after checking, under the account lock, the caps and
    the deprivation of subsidies (section 6). On a refusal nothing is written and
    `PlafondDepasse` or `SubsidesInterdits` is raised, for the transfer to be held for the
    régisseur. With an authorisation, the authorised part is exempt (D.422).

    The account is locked once and passed down. Every refusal (caps, deprivation,
    account, duplicate source) comes before the first write, so that inside the caller's
    transaction no savepoint is needed (`socle.transactions.atomique`)."""
    montant = montant_valide(montant)
    jour = date_operation or aujourdhui()
    compte = _verrouiller(compte.pk)
    _compte_actif(compte)
    if compte.detenu.est_prive_de_subsides(jour):
        raise SubsidesInterdits(
            "La personne détenue est privée de subsides jusqu'au "
            f"{compte.detenu.prive_de_subsides_jusquau:%d/%m/%Y}."
        )
    if autorisation is not None:
        reste = autorisation.montant_autorise - montant_recu_d422(autorisation)
        excedent = montant - min(montant, max(reste, ZERO))
        if excedent:
            verifier_plafonds(compte=compte, montant=excedent, emetteur=emetteur, jour=jour)
        # Its own savepoint (transaction.atomic): it may refuse after writing.
        return encaisser_subside_d422(
            autorisation=autorisation,
            montant=montant,
            source=source,
            motif=motif,
            auteur_systeme=auteur_systeme,
            date_operation=jour,
            emetteur=emetteur,
        )
    verifier_plafonds(compte=compte, montant=montant, emetteur=emetteur, jour=jour)
    return _encaisser(
        compte,
        montant=montant,
        nature=NatureEcriture.SUBSIDE_PROCHE,
        source=source,
        motif=motif,
        auteur=None,
        auteur_systeme=auteur_systeme,
        jour=jour,
        emetteur=emetteur,
    )


@transaction.atomic
def crediter_capital_rente_accident_travail(
    *,
    compte: CompteNominatif,
    montant,
    source: str,
    motif: str,
    auteur,
    date_operation: datetime.date | None = None,
    piece: str = "",
) -> Ecriture:
    """D. 332-14: the capital of a work-accident rent goes wholly to the pécule de libération."""
    return _mouvement_simple(
        compte=compte,
        partie=Partie.PECULE_LIBERATION,
        montant=montant_valide(montant),
        contrepartie=Contrepartie.ENCAISSEMENT,
        nature=NatureEcriture.CAPITAL_RENTE_AT,
        source=source,
        motif=motif,
        auteur=auteur,
        date_operation=date_operation,
        piece=piece,
    )
