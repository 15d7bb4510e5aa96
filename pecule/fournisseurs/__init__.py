"""Payment initiation providers behind one interface (`base.FournisseurPaiement`), chosen
by settings: PECULE_FOURNISSEURS maps a name to a class path and its options."""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from .base import FournisseurPaiement


@cache
def _instance(nom: str, chemin: str, options: tuple) -> FournisseurPaiement:
    return import_string(chemin)(nom=nom, **dict(options))


def fournisseur(nom: str | None = None) -> FournisseurPaiement:
    """The provider named `nom` (default: PECULE_FOURNISSEUR_DEFAUT)."""
    nom = nom or settings.PECULE_FOURNISSEUR_DEFAUT
    config = settings.PECULE_FOURNISSEURS[nom]
    return _instance(nom, config["CLASSE"], tuple(sorted(config.get("OPTIONS", {}).items())))


def reinitialiser() -> None:
    """Forget the instances (tests change the settings)."""
    _instance.cache_clear()
