"""State changes of the permis app: keyword-only functions, one transaction each.

The admin, the CSV import, the API and the portal views call these functions; they hold
no rule of their own. A refusal raises a `permis.exceptions.PermisError` subclass (French
message, stable code) or a Django `ValidationError` (field errors); nothing is written,
except the record of a relative's attempt, which is kept whatever the outcome.
"""

from .enregistrement import (
    FENETRE_TENTATIVES,
    LIMITE_ECHECS_PAR_ADRESSE,
    LIMITE_ECHECS_PAR_PROCHE,
    MESSAGE_DEJA_ENREGISTRE,
    MESSAGE_PERMIS_INACTIF,
    MESSAGE_VERIFICATION_IMPOSSIBLE,
    cle_adresse,
    enregistrer_permis,
    purger_tentatives,
)
from .gestion import (
    CHAMPS_MODIFIABLES,
    TRANSITIONS,
    changements_depuis,
    changements_permis,
    creer_ou_mettre_a_jour_permis,
    creer_permis,
    expirer_permis_echus,
    importer_permis,
    modifier_permis,
    reactiver_permis,
    retirer_permis,
    suspendre_permis,
    verifier_changements,
)
from .jetons import PREFIXE_JETON, creer_jeton, empreinte_jeton, noter_usage_jeton, revoquer_jeton
from .systeme_information import NON_FOURNI, mettre_a_jour_detenu_depuis_si

__all__ = [
    "CHAMPS_MODIFIABLES",
    "FENETRE_TENTATIVES",
    "LIMITE_ECHECS_PAR_ADRESSE",
    "LIMITE_ECHECS_PAR_PROCHE",
    "MESSAGE_DEJA_ENREGISTRE",
    "MESSAGE_PERMIS_INACTIF",
    "MESSAGE_VERIFICATION_IMPOSSIBLE",
    "NON_FOURNI",
    "PREFIXE_JETON",
    "TRANSITIONS",
    "changements_depuis",
    "changements_permis",
    "cle_adresse",
    "creer_jeton",
    "creer_ou_mettre_a_jour_permis",
    "creer_permis",
    "empreinte_jeton",
    "enregistrer_permis",
    "expirer_permis_echus",
    "importer_permis",
    "mettre_a_jour_detenu_depuis_si",
    "modifier_permis",
    "noter_usage_jeton",
    "purger_tentatives",
    "reactiver_permis",
    "retirer_permis",
    "revoquer_jeton",
    "suspendre_permis",
    "verifier_changements",
]
