"""Who may be named as the sender a D.422 authorisation expects.

The régie does not know the relatives: they, their visit permits and their accounts live
in the apps above it, which the import contracts keep it from importing. So the project
names, in `settings.REGIE_ANNUAIRE_EMETTEURS`, the module that answers (`pecule.emetteurs`
in the portal), the way it names its user model in `AUTH_USER_MODEL`. That module
provides two functions:

- `emetteurs_possibles(detenus) -> dict[detenu_id, list[(reference, libellé)]]`: for each
  detainee, the relatives who may be named (in the portal: those who registered a valid
  visit permit for that detainee), each as the sender reference the crediting matches
  (`proche:<id>`) and a label for people;
- `libelles_emetteurs(references) -> dict[reference, libellé]`: the label of each known
  reference, for the pages that show an authorisation.

Without one (the régie alone, some tests), nobody can be picked and references show as
they are: the back-office then falls back to the free-text sender.
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings


def _annuaire():
    chemin = getattr(settings, "REGIE_ANNUAIRE_EMETTEURS", "")
    return import_module(chemin) if chemin else None


def emetteurs_possibles(detenus) -> dict[int, list[tuple[str, str]]]:
    annuaire = _annuaire()
    return annuaire.emetteurs_possibles(detenus) if annuaire else {}


def libelles_emetteurs(references) -> dict[str, str]:
    references = [r for r in references if r]
    annuaire = _annuaire()
    if annuaire is None or not references:
        return {}
    return annuaire.libelles_emetteurs(references)


def libelle_emetteur(reference: str) -> str:
    """The label of one sender reference, or the reference itself if unknown."""
    if not reference:
        return ""
    return libelles_emetteurs([reference]).get(reference, reference)
