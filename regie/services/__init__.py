"""Every movement of money on a compte nominatif, and the D.422 workflow.

Each public function is keyword-only and:
1. validates its input (a bad amount raises `MontantInvalide` before anything is read);
2. checks the author's role and establishment (`DroitsInsuffisants`), unless the caller is
   an automatic process identified by `auteur_systeme`;
3. opens a transaction and takes a row lock on the account (SELECT ... FOR UPDATE), so
   movements on one account are serialised and the balances, the monthly counter and the
   caps are read and written consistently;
4. writes exactly one ledger entry (two for a transfer between prisons), updates the
   balances and the monthly counter in the same transaction, and returns the entry.
A refused movement raises a `ErreurMetier` and writes nothing. The admin, the API, the
views and the Celery tasks all call these functions; nothing else writes the ledger.
"""

from .compte_regie import (
    approuver_changement_compte,
    proposer_changement_compte,
    refuser_changement_compte,
)
from .corrections import contrepasser, rembourser
from .d422 import (
    cloturer_d422,
    decider_d422,
    demander_d422,
    encaisser_subside_d422,
    enregistrer_decision_magistrat,
    montant_bloque_d422,
    montant_recu_d422,
    payer_depense_d422,
    renoncer_d422,
)
from .debits import debiter_part_disponible, debloquer_pecule_liberation, payer_parties_civiles
from .ecritures import (
    CONTREPARTIE_DES_DEBITS,
    NATURES_CONTREPASSABLES,
    NATURES_RECETTES_SOUMISES,
    Ligne,
    ecrouer,
    montant_valide,
    verifier_droits,
)
from .liberation import (
    SEUIL_FGTI,
    ModeRemise,
    SortPartiesCiviles,
    liquider_a_la_liberation,
    sort_parties_civiles_propose,
)
from .ordres import (
    Beneficiaire,
    annuler_remise,
    beneficiaire_valide,
    compte_de_la_regie,
    constater_execution,
    constater_rejet,
    constituer_remise,
    preparer_retour_virement,
    preparer_versement_entre_regies,
    reemettre_ordre,
    refuser_ordre,
    transmettre_remise,
    valider_ordre,
)
from .ordres import (
    masquer as masquer_iban,
)
from .permissions import (
    enregistrer_retour_permission,
    fixer_permission_sortie,
    remettre_somme_permission,
)
from .personnel import personnel_ayant_le_droit, prevenir
from .recettes import (
    crediter_capital_rente_accident_travail,
    crediter_virement_proche,
    encaisser_recette,
)
from .transferts import transferer_detenu

__all__ = [
    "CONTREPARTIE_DES_DEBITS",
    "NATURES_CONTREPASSABLES",
    "NATURES_RECETTES_SOUMISES",
    "SEUIL_FGTI",
    "Beneficiaire",
    "Ligne",
    "ModeRemise",
    "SortPartiesCiviles",
    "annuler_remise",
    "approuver_changement_compte",
    "beneficiaire_valide",
    "cloturer_d422",
    "compte_de_la_regie",
    "constater_execution",
    "constater_rejet",
    "constituer_remise",
    "contrepasser",
    "crediter_capital_rente_accident_travail",
    "crediter_virement_proche",
    "debiter_part_disponible",
    "debloquer_pecule_liberation",
    "decider_d422",
    "demander_d422",
    "ecrouer",
    "encaisser_recette",
    "encaisser_subside_d422",
    "enregistrer_decision_magistrat",
    "enregistrer_retour_permission",
    "fixer_permission_sortie",
    "liquider_a_la_liberation",
    "masquer_iban",
    "montant_bloque_d422",
    "montant_recu_d422",
    "montant_valide",
    "payer_depense_d422",
    "payer_parties_civiles",
    "personnel_ayant_le_droit",
    "preparer_retour_virement",
    "preparer_versement_entre_regies",
    "prevenir",
    "proposer_changement_compte",
    "reemettre_ordre",
    "refuser_changement_compte",
    "refuser_ordre",
    "rembourser",
    "remettre_somme_permission",
    "renoncer_d422",
    "sort_parties_civiles_propose",
    "transferer_detenu",
    "transmettre_remise",
    "valider_ordre",
    "verifier_droits",
]
