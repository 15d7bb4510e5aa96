"""Release (D. 332-21): the account is liquidated."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from socle.formats import euros

from ..exceptions import (
    OperationInterdite,
)
from ..models import (
    CompteNominatif,
    Contrepartie,
    Ecriture,
    NatureEcriture,
    Partie,
)
from .ecritures import (
    Ligne,
    _compte_actif,
    _passer,
    _verrouiller,
    verifier_droits,
)

SEUIL_FGTI = Decimal("500.00")


class SortPartiesCiviles:
    FGTI = "fgti"
    CONSERVER = "conserver"
    REMETTRE = "remettre"


@transaction.atomic
def liquider_a_la_liberation(
    *,
    compte: CompteNominatif,
    auteur,
    date_liberation: datetime.date,
    sort_parties_civiles: str = SortPartiesCiviles.CONSERVER,
) -> Ecriture | None:
    """Hand over the part disponible and the pécule; part 1 goes to the FGTI when above
    500 €, stays on the account for the creditors, or is handed over when no victim nor
    creditor has a claim (ceiling conditions b and c). See docs/regles-metier.md."""
    compte = _verrouiller(compte.pk)
    detenu = compte.detenu
    verifier_droits(auteur, detenu.etablissement, "regie.passer_ecriture", "liquider un compte")
    _compte_actif(compte)
    if compte.part_disponible_bloquee > 0:
        raise OperationInterdite(
            "Des sommes D.422 sont encore bloquées : clôturez ou renoncez d'abord aux autorisations."
        )
    p1 = compte.parties_civiles
    if sort_parties_civiles == SortPartiesCiviles.FGTI and p1 <= SEUIL_FGTI:
        raise OperationInterdite(
            f"La part des parties civiles ({euros(p1)}) ne dépasse pas 500 € : "
            "elle n'est pas versée au FGTI."
        )
    if (
        sort_parties_civiles == SortPartiesCiviles.REMETTRE
        and p1 > 0
        and not (
            detenu.victimes_indemnisees_ou_absentes and not detenu.creance_alimentaire_executoire
        )
    ):
        raise OperationInterdite(
            "La part des parties civiles ne peut être remise : des victimes ou des créanciers "
            "d'aliments ont des droits."
        )
    lignes = [
        Ligne(Partie.PART_DISPONIBLE, -compte.part_disponible),
        Ligne(Partie.PECULE_LIBERATION, -compte.pecule_liberation),
        Ligne(
            Partie.CONTREPARTIE,
            compte.part_disponible + compte.pecule_liberation,
            Contrepartie.DETENU,
        ),
    ]
    if p1 and sort_parties_civiles == SortPartiesCiviles.FGTI:
        lignes += [
            Ligne(Partie.PARTIES_CIVILES, -p1),
            Ligne(Partie.CONTREPARTIE, p1, Contrepartie.FGTI),
        ]
    elif p1 and sort_parties_civiles == SortPartiesCiviles.REMETTRE:
        lignes += [
            Ligne(Partie.PARTIES_CIVILES, -p1),
            Ligne(Partie.CONTREPARTIE, p1, Contrepartie.DETENU),
        ]
    ecriture = None
    if any(ligne.montant for ligne in lignes):
        ecriture = _passer(
            compte,
            nature=NatureEcriture.LIBERATION,
            source=f"liberation:{detenu.pk}:{date_liberation.isoformat()}",
            motif=f"Liquidation du compte à la libération du {date_liberation:%d/%m/%Y}",
            lignes=lignes,
            auteur=auteur,
            auteur_systeme="",
            date_operation=date_liberation,
        )
    detenu.libere_le = date_liberation
    detenu.save(update_fields=["libere_le"])
    if compte.total == 0:
        compte.cloture_le = timezone.now()
        compte.save(update_fields=["cloture_le"])
    return ecriture
