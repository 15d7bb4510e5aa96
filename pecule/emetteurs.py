"""The relatives the régie may name as the sender of a D.422 subsidy: those who
registered a visit permit for the detainee, valid today. The régie's back-office asks
this module through `settings.REGIE_ANNUAIRE_EMETTEURS` (`regie.emetteurs`), since the
régie imports none of the apps above it.

References are the ones the crediting matches (`pecule.services.emetteur_de`:
`proche:<id>`); labels give the relative's name as FranceConnect certified it and the
permit's number, never the FranceConnect code."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model

from permis.models import PermisDeVisite, PermisEnregistre
from socle.dates import aujourdhui

from .services.commun import emetteur_de

REFERENCE_PROCHE = re.compile(r"^proche:(\d+)$")


def nom_du_proche(proche) -> str:
    return f"{proche.fc_given_name} {proche.fc_family_name}".strip() or "Proche sans nom"


def emetteurs_possibles(detenus) -> dict[int, list[tuple[str, str]]]:
    """For each of `detenus` (a queryset or ids), the relatives holding a registered,
    valid permit for that detainee, by name."""
    ids = [getattr(d, "pk", d) for d in detenus]
    enregistrements = (
        PermisEnregistre.objects.filter(
            permis__in=PermisDeVisite.objects.valides(aujourdhui()),
            permis__detenu_id__in=ids,
            proche__is_active=True,
        )
        .select_related("proche", "permis")
        .order_by("proche__fc_family_name", "proche__fc_given_name", "pk")
    )
    resultat: dict[int, list[tuple[str, str]]] = {}
    for enregistrement in enregistrements:
        proche, permis = enregistrement.proche, enregistrement.permis
        choix = (emetteur_de(proche), f"{nom_du_proche(proche)} – permis n° {permis.numero}")
        if choix not in resultat.setdefault(permis.detenu_id, []):
            resultat[permis.detenu_id].append(choix)
    return resultat


def libelles_emetteurs(references) -> dict[str, str]:
    """The relative's name for each `proche:<id>` reference (others are left out)."""
    ids = {
        int(trouve[1]): reference
        for reference in references
        if (trouve := REFERENCE_PROCHE.match(reference))
    }
    proches = get_user_model().objects.filter(pk__in=ids, fc_sub__isnull=False)
    return {ids[proche.pk]: nom_du_proche(proche) for proche in proches}
