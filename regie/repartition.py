"""Répartition of a sum credited to a detainee's compte nominatif.

Pure rule engine: no Django, no database. It implements the code pénitentiaire:

* D. 332-10: the three parts of the account (parties civiles, pécule de libération,
  part disponible);
* D. 332-12: the levy for part 1 (victims and maintenance creditors) by bands of the
  month's running total, and its ceiling of 1 000 € (al. 2-3);
* D. 332-13: the 10 % levy for the pécule de libération on the surplus above the
  monthly allowance;
* D. 332-15: the monthly allowance ("provision alimentaire") credited wholly to the
  part disponible, 200 € a calendar month and 400 € in December;
* D. 424-1: regimes (PSE/DDSE, semi-liberté, placement à l'extérieur without
  supervision) under which no pécule de libération is levied.

Levies are computed on the month's running total ``T`` of subject sums: ``P1(T)`` and
``PL(T)``, each rounded half-up to the cent. A receipt taking the total from ``T0`` to
``T1`` gives ``P1(T1) - P1(T0)`` to part 1, ``PL(T1) - PL(T0)`` to the pécule and the
remainder to the part disponible, so that splitting a month's money into several
receipts, in any order, gives the same totals as one receipt.

Which sums are subject at all (D.422 exempt subsidies, money brought back from a
permission de sortir, transfers between prisons, refunds...) is decided by the caller:
this module only splits a subject amount.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

__all__ = [
    "DECEMBRE",
    "PLAFOND_PARTIES_CIVILES",
    "PROVISION_ALIMENTAIRE",
    "PROVISION_ALIMENTAIRE_DECEMBRE",
    "TAUX_PECULE_LIBERATION",
    "TRANCHES_PARTIES_CIVILES",
    "Repartition",
    "Situation",
    "prelevements_cumules",
    "repartir",
]

CENTIME = Decimal("0.01")
ZERO = Decimal("0.00")

DECEMBRE = 12

#: D. 332-15: monthly allowance wholly credited to the part disponible.
PROVISION_ALIMENTAIRE = Decimal("200.00")
#: D. 332-15: allowance for December (fêtes de fin d'année).
PROVISION_ALIMENTAIRE_DECEMBRE = Decimal("400.00")

#: D. 332-12: part 1 levy bands, as (lower bound of the month's total, rate); each rate
#: applies from its bound up to the next one. Bounds are absolute amounts, so in
#: December the 200-400 band falls under the allowance.
TRANCHES_PARTIES_CIVILES: tuple[tuple[Decimal, Decimal], ...] = (
    (Decimal("200.00"), Decimal("0.20")),
    (Decimal("400.00"), Decimal("0.25")),
    (Decimal("600.00"), Decimal("0.30")),
)

#: D. 332-13: pécule de libération levy on the surplus above the allowance.
TAUX_PECULE_LIBERATION = Decimal("0.10")

#: D. 332-12 al. 2-3: ceiling of part 1 when the ceiling conditions hold.
PLAFOND_PARTIES_CIVILES = Decimal("1000.00")

# Exact arithmetic: sums and products of finite decimals never round under this
# context; the only rounding is the explicit half-up quantisation to the cent.
_CONTEXTE = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    rounding=ROUND_HALF_UP,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Situation:
    """The detainee's situation at the time of a receipt.

    All fields are required keyword arguments. The values are checked by
    :func:`repartir` (which raises ``ValueError``/``TypeError``), not on construction.

    * ``cumul_mois``: ``T0``, the subject sums already received this calendar month
      (D. 332-15); it restarts at 0 on the 1st of each month.
    * ``mois``: calendar month of the receipt, 1 to 12 (December raises the allowance).
    * ``sans_pecule``: True under a D. 424-1 regime (PSE/DDSE, semi-liberté, placement
      à l'extérieur without supervision); the 10 % then stays in the part disponible.
    * ``solde_parties_civiles``: current balance of part 1, used by the ceiling.
    * ``plafond_parties_civiles``: True when the ceiling conditions (b), (c) and (d) of
      D. 332-12 all hold (victims compensated or none, no maintenance creditor with an
      enforceable title, definitively convicted in all cases: never for a prévenu).
      Condition (a), the 1 000 € balance, is applied here from
      ``solde_parties_civiles``.
    """

    cumul_mois: Decimal
    mois: int
    sans_pecule: bool
    solde_parties_civiles: Decimal
    plafond_parties_civiles: bool


@dataclass(frozen=True, slots=True)
class Repartition:
    """How one receipt is split between the three parts (D. 332-10).

    Each value is a ``Decimal`` with exactly two decimal places, never negative, and
    the three add up exactly to the amount received.
    """

    parties_civiles: Decimal
    pecule_liberation: Decimal
    part_disponible: Decimal


def _au_centime(valeur: Decimal) -> Decimal:
    return valeur.quantize(CENTIME, rounding=ROUND_HALF_UP, context=_CONTEXTE)


def _montant(valeur: object, nom: str, *, strictement_positif: bool) -> Decimal:
    """Check a money value: a finite ``Decimal`` with at most two decimal places."""
    if not isinstance(valeur, Decimal):
        raise TypeError(f"{nom} must be a Decimal, not {type(valeur).__name__}")
    if not valeur.is_finite():
        raise ValueError(f"{nom} must be a finite amount, got {valeur}")
    if strictement_positif and valeur <= 0:
        raise ValueError(f"{nom} must be positive, got {valeur}")
    if not strictement_positif and valeur < 0:
        raise ValueError(f"{nom} must not be negative, got {valeur}")
    if _au_centime(valeur) != valeur:
        raise ValueError(f"{nom} must have at most two decimal places, got {valeur}")
    return _au_centime(valeur)


def _mois(valeur: object) -> int:
    if not isinstance(valeur, int) or isinstance(valeur, bool):
        raise TypeError(f"mois must be an int, not {type(valeur).__name__}")
    if not 1 <= valeur <= DECEMBRE:
        raise ValueError(f"mois must be between 1 and 12, got {valeur}")
    return valeur


def _booleen(valeur: object, nom: str) -> bool:
    if not isinstance(valeur, bool):
        raise TypeError(f"{nom} must be a bool, not {type(valeur).__name__}")
    return valeur


def _prelevements(total: Decimal, mois: int) -> tuple[Decimal, Decimal]:
    provision = PROVISION_ALIMENTAIRE_DECEMBRE if mois == DECEMBRE else PROVISION_ALIMENTAIRE
    fins = [borne for borne, _ in TRANCHES_PARTIES_CIVILES[1:]] + [total]
    with decimal.localcontext(_CONTEXTE):
        brut_p1 = Decimal(0)
        for (debut, taux), fin in zip(TRANCHES_PARTIES_CIVILES, fins, strict=True):
            assiette = min(total, fin) - max(debut, provision)
            if assiette > 0:
                brut_p1 += assiette * taux
        brut_pl = max(Decimal(0), total - provision) * TAUX_PECULE_LIBERATION
        return _au_centime(brut_p1), _au_centime(brut_pl)


def prelevements_cumules(total: Decimal, mois: int) -> tuple[Decimal, Decimal]:
    """Cumulative levies ``(P1(T), PL(T))`` for a month's running total ``T``.

    ``P1`` is the part 1 levy by bands (D. 332-12, before any ceiling) and ``PL`` the
    pécule de libération levy (D. 332-13, before any D. 424-1 exemption), both above
    the month's allowance (D. 332-15) and each rounded half-up to the cent.
    """
    total = _montant(total, "total", strictement_positif=False)
    return _prelevements(total, _mois(mois))


def repartir(montant: Decimal, situation: Situation) -> Repartition:
    """Split a subject receipt of ``montant`` between the three parts.

    Raises ``TypeError`` for a value of the wrong type (a ``float`` amount is never
    accepted) and ``ValueError`` for an amount that is not positive or has more than
    two decimal places, a negative ``cumul_mois`` or ``solde_parties_civiles``, or a
    month outside 1 to 12.

    * part 1 gets ``P1(T1) - P1(T0)`` (D. 332-12); when ``plafond_parties_civiles`` is
      set, at most ``max(0, 1000 - solde_parties_civiles)`` of it, the rest going to the
      part disponible (D. 332-12 al. 2-3);
    * the pécule gets ``PL(T1) - PL(T0)`` (D. 332-13), or nothing under
      ``sans_pecule`` (D. 424-1), the 10 % then staying in the part disponible;
    * the part disponible gets the remainder.

    Known edge case of the rule as specified: for a receipt of exactly 0.01 whose new
    total ``T1`` is 600.05, 600.15, 600.25... (``T1 - 600`` ending in 5 cents), both
    half-up roundings step up by a cent at once and the result is 0.01 / 0.01 / -0.01.
    It is the only case where a part can be negative (every amount of 0.02 or more
    gives non-negative parts); it is kept so that per-part totals never depend on how
    the month's money was split into receipts.
    """
    if not isinstance(situation, Situation):
        raise TypeError(f"situation must be a Situation, not {type(situation).__name__}")
    montant = _montant(montant, "montant", strictement_positif=True)
    t0 = _montant(situation.cumul_mois, "cumul_mois", strictement_positif=False)
    solde = _montant(
        situation.solde_parties_civiles, "solde_parties_civiles", strictement_positif=False
    )
    mois = _mois(situation.mois)
    sans_pecule = _booleen(situation.sans_pecule, "sans_pecule")
    plafond = _booleen(situation.plafond_parties_civiles, "plafond_parties_civiles")

    with decimal.localcontext(_CONTEXTE):
        p1_avant, pl_avant = _prelevements(t0, mois)
        p1_apres, pl_apres = _prelevements(t0 + montant, mois)

        parties_civiles = p1_apres - p1_avant
        if plafond:
            parties_civiles = min(parties_civiles, max(ZERO, PLAFOND_PARTIES_CIVILES - solde))
        pecule_liberation = ZERO if sans_pecule else pl_apres - pl_avant
        part_disponible = montant - parties_civiles - pecule_liberation
        return Repartition(
            parties_civiles=_au_centime(parties_civiles),
            pecule_liberation=_au_centime(pecule_liberation),
            part_disponible=_au_centime(part_disponible),
        )
