"""Pending transfers and the caps (spec 01 §6 and §9, docs/regles-metier.md).

The caps are checked at initiation against what is already credited this month **plus
what is pending**, so that several pending transfers cannot pass a cap together; and
again at crediting, under the account lock, where money above a cap is held for the
régisseur, never lost. A pending amount must not outlive its chance of being paid:

| state of the transfer | counts | for whom |
|---|---|---|
| created at the provider, awaiting the relative's approval (`initie`) | until the provider's own expiry time (`expire_le`), or until it says expired/cancelled | its sender only |
| being created at the provider (no provider id yet) | while the call runs (at most `DELAI_CREATION`, should the process die during it); once the provider failed, no longer: a payment it never created does not count | its sender only |
| approved, pending at the bank (`autorise`) | until final | everyone |
| executed, not yet credited (`execute` / `a_crediter`) | until credited (it is then in the month's total) | everyone |
| refused, cancelled, expired; held « à traiter » or returned | no | |

"For whom": the per-sender cap counts the sender's own pending transfers; the
per-detainee cap counts everyone's approved and executed transfers, and only the
sender's own unapproved ones, so that a relative's abandoned payments never block
another relative. A pending transfer counts in the current month whatever the month it
was initiated in (it will be credited now or later, never in a past month).

D.422: the part of a pending transfer that the sender's authorisation still covers is
not counted (the authorisation's remainder is shared among the sender's pending
transfers in the order they were initiated); the rest is counted like any transfer.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from regie.models import ZERO, AutorisationD422, StatutD422
from regie.services import montant_recu_d422

from ..models import StatutPaiement, StatutRegie, Virement
from .commun import DELAI_CREATION, emetteur_de
from .etats import DUREE_SUIVI


def _en_attente_pour_tous() -> Q:
    """Approved at the bank, or executed and not yet credited: counts for everyone."""
    return Q(statut_paiement=StatutPaiement.AUTORISE) | Q(
        statut_paiement=StatutPaiement.EXECUTE, statut_regie=StatutRegie.A_CREDITER
    )


def _en_attente_pour_l_emetteur(maintenant: datetime.datetime) -> Q:
    """Not yet approved by the relative: counts for its sender only, while it may still
    be approved (provider's expiry) or is being created at the provider."""
    cree_chez_le_fournisseur = Q(id_fournisseur__isnull=False) & (
        Q(expire_le__gt=maintenant)
        | Q(expire_le__isnull=True, cree_le__gt=maintenant - DUREE_SUIVI)
    )
    en_creation = Q(
        id_fournisseur__isnull=True, creation_en_cours_depuis__gt=maintenant - DELAI_CREATION
    )
    return Q(statut_paiement=StatutPaiement.INITIE) & (cree_chez_le_fournisseur | en_creation)


def virements_en_attente(
    detenu_id: int, maintenant: datetime.datetime | None = None
) -> list[Virement]:
    """Every transfer to this detainee that counts against a cap for someone, oldest
    first."""
    maintenant = maintenant or timezone.now()
    return list(
        Virement.objects.filter(detenu_id=detenu_id)
        .filter(_en_attente_pour_tous() | _en_attente_pour_l_emetteur(maintenant))
        .order_by("cree_le", "pk")
    )


def _reste_autorise(emetteur: str, detenu_id: int) -> Decimal:
    """What the sender's D.422 authorisation (if any) may still receive, exempt."""
    autorisation = (
        AutorisationD422.objects.filter(
            detenu_id=detenu_id, statut=StatutD422.AUTORISEE, emetteur_ref=emetteur
        )
        .order_by("decidee_le")
        .first()
    )
    if autorisation is None:
        return ZERO
    return max(autorisation.montant_autorise - montant_recu_d422(autorisation), ZERO)


def _compte_pour_tous(virement: Virement) -> bool:
    return virement.statut_paiement == StatutPaiement.AUTORISE or (
        virement.statut_paiement == StatutPaiement.EXECUTE
        and virement.statut_regie == StatutRegie.A_CREDITER
    )


def _parts_soumises(
    virements: list[Virement], detenu_id: int
) -> tuple[dict[int, Decimal], dict[str, Decimal]]:
    """Each pending transfer's part that the caps count (its amount less what its
    sender's D.422 authorisation still covers, shared in order of initiation), and what
    each sender's authorisation still covers after them."""
    parts: dict[int, Decimal] = {}
    restes: dict[str, Decimal] = {}
    for virement in virements:
        emetteur = f"proche:{virement.proche_id}"
        if emetteur not in restes:
            restes[emetteur] = _reste_autorise(emetteur, detenu_id)
        exonere = min(virement.montant, restes[emetteur])
        restes[emetteur] -= exonere
        parts[virement.pk] = virement.montant - exonere
    return parts, restes


@dataclass(frozen=True, slots=True)
class EnAttente:
    """What is pending for one sender's next transfer to one detainee."""

    detenu: Decimal  # counted against the per-detainee monthly cap
    emetteur: Decimal  # the sender's own, counted against the per-sender monthly cap
    reste_d422: Decimal  # what the sender's authorisation still covers after those


def en_attente(
    *, detenu, proche, maintenant: datetime.datetime | None = None, exclure: int | None = None
) -> EnAttente:
    """The pending amounts that count against `proche`'s next transfer to `detenu` (see
    the module); `exclure`: a transfer not to count (the one being checked again)."""
    virements = [v for v in virements_en_attente(detenu.pk, maintenant) if v.pk != exclure]
    parts, restes = _parts_soumises(virements, detenu.pk)
    siens = [v for v in virements if v.proche_id == proche.pk]
    emetteur = sum((parts[v.pk] for v in siens), ZERO)
    autres = sum(
        (parts[v.pk] for v in virements if v.proche_id != proche.pk and _compte_pour_tous(v)), ZERO
    )
    mien = emetteur_de(proche)
    reste = restes[mien] if mien in restes else _reste_autorise(mien, detenu.pk)
    return EnAttente(detenu=emetteur + autres, emetteur=emetteur, reste_d422=reste)


def montants_en_attente(compte, jour: datetime.date | None = None, proche=None) -> Decimal:
    """The pending amount of one sender (`proche`), or, without `proche`, what counts
    for everyone (approved or executed, not yet credited). `jour` is kept for the
    callers' sake: a pending transfer counts whatever its month."""
    virements = virements_en_attente(compte.detenu_id)
    parts, _restes = _parts_soumises(virements, compte.detenu_id)
    if proche is not None:
        return sum((parts[v.pk] for v in virements if v.proche_id == proche.pk), ZERO)
    return sum((parts[v.pk] for v in virements if _compte_pour_tous(v)), ZERO)
