"""The models of the `pecule` app, one module per concern: the relatives' transfers and
their inbox and outbox (`virements`), the régie's bank statements (`rapprochement`),
the relatives' PDF statements (`releves`)."""

from .rapprochement import (
    STATUTS_RAPPROCHES,
    LigneReleve,
    RapportPain002,
    ReleveBancaire,
    Sens,
    StatutRapprochement,
)
from .releves import ReleveProche, StatutReleve, chemin_releve
from .virements import (
    RANG_STATUT,
    STATUTS_FINAUX,
    CourrielSortant,
    EtatProche,
    EvenementVirement,
    NotificationRecue,
    NotificationRejetee,
    StatutPaiement,
    StatutRegie,
    Virement,
    VirementQuerySet,
    nouvelle_reference,
)

__all__ = [
    "RANG_STATUT",
    "STATUTS_FINAUX",
    "STATUTS_RAPPROCHES",
    "CourrielSortant",
    "EtatProche",
    "EvenementVirement",
    "LigneReleve",
    "NotificationRecue",
    "NotificationRejetee",
    "RapportPain002",
    "ReleveBancaire",
    "ReleveProche",
    "Sens",
    "StatutPaiement",
    "StatutRapprochement",
    "StatutRegie",
    "StatutReleve",
    "Virement",
    "VirementQuerySet",
    "chemin_releve",
    "nouvelle_reference",
]
