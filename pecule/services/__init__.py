"""Relatives' transfers: keyword-only functions that views, tasks and the admin call, one
module per concern:
- `initiation`: « Réaliser le virement » (checks, caps, the payment at the provider, once
  per idempotency key); `en_attente`: which pending transfers count against the caps;
- `etats`: the provider's state machine and the crediting of the compte nominatif;
- `confirmation`: « Confirmer », back from the bank;
- `decisions`: the régisseur's decisions on held transfers;
- `courriels`: the outbox; `rejets`: refused notifications; `commun`: what they share.
"""

from .commun import VirementImpossible, autorisation_d422_pour, emetteur_de, libelle_virement
from .confirmation import (
    SOURCE_CONFIRMATION,
    actualiser_depuis_le_retour,
    confirmer_par_le_proche,
)
from .decisions import crediter_virement_a_traiter, retourner_virement
from .en_attente import en_attente, montants_en_attente
from .etats import (
    AUTEUR_SYSTEME,
    CALENDRIER_VERIFICATION,
    DUREE_SUIVI,
    INTERVALLE_VERIFICATION_ENSUITE,
    actualiser_virement,
    appliquer_etat,
    prochaine_verification,
)
from .initiation import (
    MONTANT_MINIMUM,
    initier_virement,
    verifier_virement_possible,
)
from .selecteurs import CompteOrigine, compte_d_origine

__all__ = [
    "AUTEUR_SYSTEME",
    "CALENDRIER_VERIFICATION",
    "DUREE_SUIVI",
    "INTERVALLE_VERIFICATION_ENSUITE",
    "MONTANT_MINIMUM",
    "SOURCE_CONFIRMATION",
    "CompteOrigine",
    "VirementImpossible",
    "actualiser_depuis_le_retour",
    "actualiser_virement",
    "appliquer_etat",
    "autorisation_d422_pour",
    "compte_d_origine",
    "confirmer_par_le_proche",
    "crediter_virement_a_traiter",
    "emetteur_de",
    "en_attente",
    "initier_virement",
    "libelle_virement",
    "montants_en_attente",
    "prochaine_verification",
    "retourner_virement",
    "verifier_virement_possible",
]
