"""Aid to detainees without sufficient resources (L. 333-1, D. 333-1, D. 333-2).

A detainee is « dépourvu de ressources suffisantes » (aid in kind) when, cumulatively,
the part disponible during the previous month is below 100 €, the part disponible during
the current month is below 100 €, and the month's spending is below 100 € (D. 333-1); the
same tests at 60 € open the cash aid (D. 333-2). In the first month of detention the
previous month is not considered. How the software reads « la part disponible pendant le
mois » and « les dépenses » is in docs/regles-metier.md.

The cash aid and the newcomers' emergency aid are credited to the part disponible, whole:
the State's aid for the detainee's daily needs is not a sum « reçue » to be split, and it
does not count in the month's counter.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from socle.dates import aujourdhui
from socle.formats import euros

from ..exceptions import OperationInterdite
from ..models import (
    ZERO,
    CompteNominatif,
    Contrepartie,
    Ecriture,
    LigneEcriture,
    NatureEcriture,
    Partie,
)
from ..parametres import montant_aide_numeraire, montant_aide_urgence_arrivant
from .ecritures import (
    CONTREPARTIE_DES_DEBITS,
    Ligne,
    _compte_actif,
    _passer,
    _premier_du_mois,
    _verrouiller,
    verifier_droits,
)

#: D. 333-1: thresholds of the aid in kind.
SEUIL_AIDE_NATURE = Decimal("100.00")
#: D. 333-2: thresholds of the cash aid.
SEUIL_AIDE_NUMERAIRE = Decimal("60.00")
#: What the detainee spends: the debits of the part disponible for his own use (canteen,
#: rentals, money sent out, sums handed over), less their refunds.
NATURES_DEPENSES = frozenset(CONTREPARTIE_DES_DEBITS) | {NatureEcriture.PERMISSION_REMISE}


@dataclass(frozen=True, slots=True)
class Ressources:
    mois: datetime.date  # first day of the current month
    premier_mois: bool
    part_disponible_mois_precedent: Decimal | None  # None in the first month
    part_disponible_mois_courant: Decimal
    depenses_mois_courant: Decimal

    def _sous(self, seuil: Decimal) -> bool:
        return (
            (self.premier_mois or self.part_disponible_mois_precedent < seuil)
            and self.part_disponible_mois_courant < seuil
            and self.depenses_mois_courant < seuil
        )

    @property
    def aide_en_nature(self) -> bool:
        return self._sous(SEUIL_AIDE_NATURE)

    @property
    def aide_en_numeraire(self) -> bool:
        return self._sous(SEUIL_AIDE_NUMERAIRE)

    def constat(self) -> str:
        precedent = (
            "premier mois de détention"
            if self.premier_mois
            else f"mois précédent {euros(self.part_disponible_mois_precedent)}"
        )
        return (
            f"part disponible : {precedent}, mois en cours {euros(self.part_disponible_mois_courant)} ; "
            f"dépenses du mois : {euros(self.depenses_mois_courant)}"
        )


def _plus_haut_solde_libre(compte: CompteNominatif, debut: datetime.date, fin: datetime.date):
    """The highest balance of the free part disponible (blocked D.422 sums excluded) from
    `debut` to `fin` inclusive, the opening balance included."""
    lignes = LigneEcriture.objects.filter(
        ecriture__compte=compte, partie=Partie.PART_DISPONIBLE, bloque_d422__isnull=True
    )
    solde = (
        lignes.filter(ecriture__date_operation__lt=debut).aggregate(total=Sum("montant"))["total"]
        or ZERO
    )
    plus_haut = solde
    variations = (
        lignes.filter(ecriture__date_operation__range=(debut, fin))
        .values("ecriture_id", "ecriture__date_operation")
        .annotate(total=Sum("montant"))
        .order_by("ecriture__date_operation", "ecriture_id")
    )
    for variation in variations:
        solde += variation["total"]
        plus_haut = max(plus_haut, solde)
    return plus_haut


def _fin_du_mois(premier: datetime.date) -> datetime.date:
    suivant = (premier.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return suivant - datetime.timedelta(days=1)


def ressources(compte: CompteNominatif, jour: datetime.date | None = None) -> Ressources:
    """The three tests of D. 333-1 / D. 333-2 for the month of `jour` (today by default)."""
    jour = jour or aujourdhui()
    mois = _premier_du_mois(jour)
    ecroue_le = timezone.localdate(compte.ouvert_le)
    premier_mois = _premier_du_mois(ecroue_le) >= mois
    precedent = None
    if not premier_mois:
        debut_precedent = _premier_du_mois(mois - datetime.timedelta(days=1))
        precedent = _plus_haut_solde_libre(
            compte, debut_precedent, mois - datetime.timedelta(days=1)
        )
    debits = (
        LigneEcriture.objects.filter(
            ecriture__compte=compte,
            ecriture__nature__in=NATURES_DEPENSES,
            ecriture__date_operation__range=(mois, jour),
            partie=Partie.PART_DISPONIBLE,
        ).aggregate(total=Sum("montant"))["total"]
        or ZERO
    )
    remboursements = (
        Ecriture.objects.filter(
            compte=compte,
            nature=NatureEcriture.REMBOURSEMENT,
            rembourse__nature__in=NATURES_DEPENSES,
            date_operation__range=(mois, jour),
        ).aggregate(total=Sum("montant"))["total"]
        or ZERO
    )
    annulations = (
        LigneEcriture.objects.filter(
            ecriture__compte=compte,
            ecriture__nature=NatureEcriture.CONTREPASSATION,
            ecriture__contrepasse__nature__in=NATURES_DEPENSES,
            ecriture__date_operation__range=(mois, jour),
            partie=Partie.PART_DISPONIBLE,
        ).aggregate(total=Sum("montant"))["total"]
        or ZERO
    )
    return Ressources(
        mois=mois,
        premier_mois=premier_mois,
        part_disponible_mois_precedent=precedent,
        part_disponible_mois_courant=_plus_haut_solde_libre(compte, mois, jour),
        depenses_mois_courant=max(-debits - remboursements - annulations, ZERO),
    )


def _deja_attribuee(compte, nature, depuis: datetime.date | None = None) -> Ecriture | None:
    ecritures = Ecriture.objects.filter(compte=compte, nature=nature, contrepassee_par__isnull=True)
    if depuis is not None:
        ecritures = ecritures.filter(date_operation__gte=depuis)
    return ecritures.first()


@transaction.atomic
def attribuer_aide_numeraire(
    *,
    compte: CompteNominatif,
    auteur,
    source: str,
    piece: str,
    date_operation: datetime.date | None = None,
) -> Ecriture:
    """The month's cash aid (D. 333-2), on the decision of the commission (`piece`), when
    the three tests at 60 € hold; once per calendar month."""
    jour = date_operation or aujourdhui()
    compte = _verrouiller(compte.pk)
    verifier_droits(
        auteur, compte.detenu.etablissement, "regie.passer_ecriture", "passer une écriture"
    )
    _compte_actif(compte)
    if not piece.strip():
        raise OperationInterdite("La référence de la décision d'attribution est obligatoire.")
    mois = _premier_du_mois(jour)
    deja = _deja_attribuee(compte, NatureEcriture.AIDE_NUMERAIRE, mois)
    if deja is not None and deja.date_operation <= _fin_du_mois(mois):
        raise OperationInterdite(
            f"L'aide en numéraire de {mois:%m/%Y} a déjà été versée (écriture n° {deja.pk})."
        )
    situation = ressources(compte, jour)
    if not situation.aide_en_numeraire:
        raise OperationInterdite(
            "La personne n'est pas dépourvue de ressources suffisantes au sens de l'article "
            f"D. 333-2 (seuil de {euros(SEUIL_AIDE_NUMERAIRE)}) : {situation.constat()}."
        )
    montant = montant_aide_numeraire()
    return _passer(
        compte,
        nature=NatureEcriture.AIDE_NUMERAIRE,
        source=source,
        motif=f"Aide en numéraire de {mois:%m/%Y} (D. 333-2) : {situation.constat()}.",
        lignes=[
            Ligne(Partie.PART_DISPONIBLE, montant),
            Ligne(Partie.CONTREPARTIE, -montant, Contrepartie.ETAT),
        ],
        auteur=auteur,
        auteur_systeme="",
        date_operation=jour,
        piece=piece.strip(),
    )


@transaction.atomic
def attribuer_aide_urgence(
    *,
    compte: CompteNominatif,
    auteur,
    source: str,
    piece: str,
    date_operation: datetime.date | None = None,
) -> Ecriture:
    """The newcomers' emergency aid: once per detention, during the first month, when
    the newcomer has no sufficient resources (D. 333-1 as applied to a newcomer)."""
    jour = date_operation or aujourdhui()
    compte = _verrouiller(compte.pk)
    verifier_droits(
        auteur, compte.detenu.etablissement, "regie.passer_ecriture", "passer une écriture"
    )
    _compte_actif(compte)
    if not piece.strip():
        raise OperationInterdite("La référence de la décision d'attribution est obligatoire.")
    situation = ressources(compte, jour)
    if not situation.premier_mois:
        raise OperationInterdite(
            "L'aide d'urgence n'est attribuée que pendant le premier mois de détention."
        )
    deja = _deja_attribuee(compte, NatureEcriture.AIDE_URGENCE)
    if deja is not None:
        raise OperationInterdite(f"L'aide d'urgence a déjà été versée (écriture n° {deja.pk}).")
    if not situation.aide_en_nature:
        raise OperationInterdite(
            "La personne n'est pas dépourvue de ressources suffisantes au sens de l'article "
            f"D. 333-1 (seuil de {euros(SEUIL_AIDE_NATURE)}) : {situation.constat()}."
        )
    montant = montant_aide_urgence_arrivant()
    return _passer(
        compte,
        nature=NatureEcriture.AIDE_URGENCE,
        source=source,
        motif=f"Aide d'urgence à l'arrivée : {situation.constat()}.",
        lignes=[
            Ligne(Partie.PART_DISPONIBLE, montant),
            Ligne(Partie.CONTREPARTIE, -montant, Contrepartie.ETAT),
        ],
        auteur=auteur,
        auteur_systeme="",
        date_operation=jour,
        piece=piece.strip(),
    )
