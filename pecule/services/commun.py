"""What the transfer services share: the sender reference the caps count with, the D.422
authorisation a relative's money goes to, and the transfer's history."""

from __future__ import annotations

import datetime

from regie.models import AutorisationD422, StatutD422
from socle.erreurs import ErreurMetier

from ..models import EvenementVirement, Virement

# How long the creation of a payment at the provider may be under way: far above the
# provider call's timeout (seconds), for a process that died during the call. Past it, the
# provider never created it: it no longer counts against the caps, and the poller closes
# it (`etats.clore_virements_jamais_crees`).
DELAI_CREATION = datetime.timedelta(minutes=10)


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


def autorisation_d422_pour(proche, detenu) -> AutorisationD422 | None:
    """A D.422 authorisation granted for money from this relative, if any."""
    return (
        AutorisationD422.objects.filter(
            detenu=detenu, statut=StatutD422.AUTORISEE, emetteur_ref=emetteur_de(proche)
        )
        .order_by("decidee_le")
        .first()
    )


def etape(virement, source, avant, apres, details="", auteur=None) -> EvenementVirement:
    """A step of the transfer's history, not yet saved (for one INSERT of several)."""
    return EvenementVirement(
        virement=virement, source=source, avant=avant, apres=apres, details=details, auteur=auteur
    )


def journal(virement, source, avant, apres, details="", auteur=None) -> None:
    etape(virement, source, avant, apres, details, auteur).save()
