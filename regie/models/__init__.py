"""The régie des comptes nominatifs: establishments, detainees, accounts and the ledger.

Invariants are stated as database constraints so that a bug fails loudly instead of
losing money:
- no part of an account is ever negative, and the blocked D.422 sums never exceed the
  part disponible;
- an entry is booked once per source (unique `source`);
- an entry's lines add up to zero (double entry; checked in Python and, on PostgreSQL,
  by a deferred constraint trigger);
- ledger rows are never updated or deleted (PostgreSQL triggers; a correction is a
  reversing entry);
- the person who recorded a D.422 request never decides it.
The money-moving functions are in `regie.services`; nothing else writes these tables.
One module per concern: `comptes`, `d422`, `ecritures`, `ordres` (money out),
`situations` (statuses of the écrou, JAP prescriptions, garnishments), `vigilance`.
"""

from .comptes import (
    MONEY,
    REGIMES_AMENAGEMENT_SOUS_ECROU,
    REGIMES_SANS_PECULE,
    ZERO,
    Affectation,
    CompteNominatif,
    CompteurMensuel,
    Detenu,
    Etablissement,
    Regime,
    StatutPenal,
    TypeSuspension,
    valider_iban,
)
from .d422 import (
    ActionD422,
    AutorisationD422,
    ChoixReliquat,
    DecisionMagistrat,
    EvenementD422,
    StatutD422,
)
from .ecritures import (
    NOMS_PARTIES,
    PARTIES_DU_COMPTE,
    Contrepartie,
    Ecriture,
    LigneEcriture,
    NatureEcriture,
    NomPartie,
    Partie,
    PermissionSortie,
    StatutPermission,
)
from .ordres import (
    STATUTS_ECHEC,
    STATUTS_EN_COURS,
    ActionOrdre,
    ChangementCompteRegie,
    EvenementOrdre,
    NatureOrdre,
    OrdreVirement,
    Remise,
    StatutChangementCompte,
    StatutOrdre,
    StatutRemise,
    TypeCreancier,
    VersionPain001,
)
from .situations import (
    ActionSituation,
    EvenementSituation,
    PaiementSaisie,
    PrescriptionJap,
    Saisie,
    StatutSaisie,
    TypePrescriptionJap,
)
from .vigilance import (
    AlerteVigilance,
    ReglesVigilance,
    RegleVigilance,
    RetenueEmetteur,
    StatutAlerte,
)

__all__ = [
    "MONEY",
    "NOMS_PARTIES",
    "PARTIES_DU_COMPTE",
    "REGIMES_AMENAGEMENT_SOUS_ECROU",
    "REGIMES_SANS_PECULE",
    "STATUTS_ECHEC",
    "STATUTS_EN_COURS",
    "ZERO",
    "ActionD422",
    "ActionOrdre",
    "ActionSituation",
    "Affectation",
    "AlerteVigilance",
    "AutorisationD422",
    "ChangementCompteRegie",
    "ChoixReliquat",
    "CompteNominatif",
    "CompteurMensuel",
    "Contrepartie",
    "DecisionMagistrat",
    "Detenu",
    "Ecriture",
    "Etablissement",
    "EvenementD422",
    "EvenementOrdre",
    "EvenementSituation",
    "LigneEcriture",
    "NatureEcriture",
    "NatureOrdre",
    "NomPartie",
    "OrdreVirement",
    "PaiementSaisie",
    "Partie",
    "PermissionSortie",
    "PrescriptionJap",
    "Regime",
    "RegleVigilance",
    "ReglesVigilance",
    "Remise",
    "RetenueEmetteur",
    "Saisie",
    "StatutAlerte",
    "StatutChangementCompte",
    "StatutD422",
    "StatutOrdre",
    "StatutPenal",
    "StatutPermission",
    "StatutRemise",
    "StatutSaisie",
    "TypeCreancier",
    "TypePrescriptionJap",
    "TypeSuspension",
    "VersionPain001",
    "valider_iban",
]
