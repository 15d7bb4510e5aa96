"""Caps on relatives' transfers (spec section 6), set per establishment.

The same check runs when a transfer is initiated (with what is already pending) and
again, under the account lock, when it is credited (`services.crediter_virement_proche`).
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, F, Q, Sum, When

from socle.formats import euros

from .exceptions import PlafondDepasse
from .models import ZERO, CompteNominatif, Ecriture, NatureEcriture


def subsides_du_mois(
    compte: CompteNominatif, jour: datetime.date, emetteur: str | None = None
) -> Decimal:
    """Relatives' transfers credited in the calendar month of `jour`, reversals excluded:
    ordinary subsidies, and the part of a D.422 subsidy above its authorisation (an
    ordinary receipt, which counts like any; the authorised part does not)."""
    ecritures = _subsides(compte, jour)
    if emetteur is not None:
        ecritures = ecritures.filter(emetteur=emetteur)
    return ecritures.aggregate(total=Sum(COMPTE_POUR_LE_PLAFOND))["total"] or ZERO


def _subsides(compte: CompteNominatif, jour: datetime.date):
    return Ecriture.objects.filter(
        compte=compte,
        nature__in=[NatureEcriture.SUBSIDE_PROCHE, NatureEcriture.SUBSIDE_D422],
        date_operation__year=jour.year,
        date_operation__month=jour.month,
        contrepassee_par__isnull=True,
    )


COMPTE_POUR_LE_PLAFOND = Case(
    When(nature=NatureEcriture.SUBSIDE_D422, then=F("montant_soumis")),
    default=F("montant"),
)


def _subsides_du_mois_et_de_l_emetteur(
    compte: CompteNominatif, jour: datetime.date, emetteur: str | None
) -> tuple[Decimal, Decimal]:
    """`subsides_du_mois` for the detainee and, when `emetteur` is given, for that sender
    alone, in one query (the sender's total is ZERO without a sender)."""
    agregats = {"total": Sum(COMPTE_POUR_LE_PLAFOND)}
    if emetteur:
        agregats["emetteur"] = Sum(COMPTE_POUR_LE_PLAFOND, filter=Q(emetteur=emetteur))
    totaux = _subsides(compte, jour).aggregate(**agregats)
    return totaux["total"] or ZERO, totaux.get("emetteur") or ZERO


def verifier_plafonds(
    *,
    compte: CompteNominatif,
    montant: Decimal,
    emetteur: str,
    jour: datetime.date,
    en_attente: Decimal = ZERO,
    en_attente_emetteur: Decimal = ZERO,
) -> None:
    """Raise PlafondDepasse, with the cap in the message, if `montant` breaks a cap.

    `en_attente` / `en_attente_emetteur` are transfers initiated but not yet credited,
    counted at initiation so that several pending transfers cannot pass a cap together.
    """
    etablissement = compte.detenu.etablissement
    plafond_emetteur = etablissement.plafond_mensuel_par_emetteur
    if montant > etablissement.plafond_par_virement:
        raise PlafondDepasse(
            "Le montant dépasse le plafond par virement fixé par l'établissement : "
            f"{euros(etablissement.plafond_par_virement)}.",
            plafond="par_virement",
            montant_plafond=etablissement.plafond_par_virement,
        )
    du_mois, de_l_emetteur = _subsides_du_mois_et_de_l_emetteur(
        compte, jour, emetteur if plafond_emetteur is not None else None
    )
    deja = du_mois + en_attente
    if deja + montant > etablissement.plafond_mensuel_par_detenu:
        reste = max(etablissement.plafond_mensuel_par_detenu - deja, ZERO)
        raise PlafondDepasse(
            "Le montant dépasse le plafond mensuel fixé par l'établissement pour cette "
            f"personne détenue : {euros(etablissement.plafond_mensuel_par_detenu)} par mois "
            f"(encore {euros(reste)} possibles ce mois-ci).",
            plafond="mensuel_detenu",
            montant_plafond=etablissement.plafond_mensuel_par_detenu,
            reste=reste,
        )
    if plafond_emetteur is not None and emetteur:
        deja_emetteur = de_l_emetteur + en_attente_emetteur
        if deja_emetteur + montant > plafond_emetteur:
            reste = max(plafond_emetteur - deja_emetteur, ZERO)
            raise PlafondDepasse(
                "Le montant dépasse le plafond mensuel fixé par l'établissement pour un même "
                f"proche : {euros(plafond_emetteur)} par mois (encore {euros(reste)} possibles "
                "ce mois-ci).",
                plafond="mensuel_emetteur",
                montant_plafond=plafond_emetteur,
                reste=reste,
            )


@dataclass(frozen=True, slots=True)
class Marges:
    """What a sender may still send to one detainee this calendar month: the caps and,
    for each monthly cap, what is left under it. The same figures as the refusals of
    `verifier_plafonds` (« encore … possibles ce mois-ci »), computed the same way, and
    nothing more: never who else sent what."""

    par_virement: Decimal
    mensuel_detenu: Decimal
    reste_detenu: Decimal
    mensuel_emetteur: Decimal | None
    reste_emetteur: Decimal | None

    @property
    def maximum(self) -> Decimal:
        """The largest transfer the caps allow now."""
        restes = [self.par_virement, self.reste_detenu]
        if self.reste_emetteur is not None:
            restes.append(self.reste_emetteur)
        return min(restes)


def marges(
    *,
    compte: CompteNominatif,
    emetteur: str,
    jour: datetime.date,
    en_attente: Decimal = ZERO,
    en_attente_emetteur: Decimal = ZERO,
) -> Marges:
    """The caps of `compte`'s establishment and what is left under them this month for
    `emetteur`, with the same arguments as `verifier_plafonds`."""
    etablissement = compte.detenu.etablissement
    plafond_emetteur = etablissement.plafond_mensuel_par_emetteur
    du_mois, de_l_emetteur = _subsides_du_mois_et_de_l_emetteur(
        compte, jour, emetteur if plafond_emetteur is not None else None
    )
    deja = du_mois + en_attente
    reste_emetteur = None
    if plafond_emetteur is not None and emetteur:
        deja_emetteur = de_l_emetteur + en_attente_emetteur
        reste_emetteur = max(plafond_emetteur - deja_emetteur, ZERO)
    return Marges(
        par_virement=etablissement.plafond_par_virement,
        mensuel_detenu=etablissement.plafond_mensuel_par_detenu,
        reste_detenu=max(etablissement.plafond_mensuel_par_detenu - deja, ZERO),
        mensuel_emetteur=plafond_emetteur if emetteur else None,
        reste_emetteur=reste_emetteur,
    )
