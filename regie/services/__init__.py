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

from .aides import attribuer_aide_numeraire, attribuer_aide_urgence, ressources
from .compte_regie import (
    approuver_changement_compte,
    proposer_changement_compte,
    refuser_changement_compte,
)
from .corrections import apports_du_mois, contrepasser, rembourser, reprise_repartition
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
    NATURES_NON_CONTREPASSABLES,
    NATURES_RECETTES_SOUMISES,
    NATURES_REMBOURSABLES,
    Ligne,
    ecrouer,
    montant_valide,
    pecule_sur_livret_a,
    prescription_jap_en_vigueur,
    verifier_droits,
)
from .liberation import (
    SEUIL_FGTI,
    ModeRemise,
    SortPartiesCiviles,
    liquider_a_la_liberation,
    sort_parties_civiles_propose,
)
from .livret_a import (
    comptes_a_placer,
    crediter_interets_livret_a,
    pecule_a_placer,
    placer_pecule_livret_a,
    rapatrier_pecule_livret_a,
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
from .saisies import (
    enregistrer_saisie,
    lever_saisie,
    montant_paye_saisie,
    montant_saisissable,
    payer_saisie,
    verser_volontairement_parties_civiles,
)
from .situations import (
    constater_deces,
    constater_evasion,
    constater_reprise,
    dette_contrainte_restante,
    enregistrer_prescription_jap,
    lever_contrainte_judiciaire,
    mettre_fin_suspension,
    payer_dette_contrainte_judiciaire,
    placer_sous_contrainte_judiciaire,
    reliquat_evasion_retablissable,
    remettre_aux_ayants_droit,
    retablir_apres_evasion,
    suspendre_peine,
    verser_au_tresor_apres_deces,
    verser_au_tresor_apres_evasion,
)
from .transferts import transferer_detenu
from .vigilance import decider_alerte, examiner_recette, fixer_regles_vigilance, lever_retenue

__all__ = [
    "CONTREPARTIE_DES_DEBITS",
    "NATURES_CONTREPASSABLES",
    "NATURES_NON_CONTREPASSABLES",
    "NATURES_RECETTES_SOUMISES",
    "NATURES_REMBOURSABLES",
    "SEUIL_FGTI",
    "Beneficiaire",
    "Ligne",
    "ModeRemise",
    "SortPartiesCiviles",
    "annuler_remise",
    "apports_du_mois",
    "approuver_changement_compte",
    "attribuer_aide_numeraire",
    "attribuer_aide_urgence",
    "beneficiaire_valide",
    "cloturer_d422",
    "compte_de_la_regie",
    "comptes_a_placer",
    "constater_deces",
    "constater_evasion",
    "constater_execution",
    "constater_rejet",
    "constater_reprise",
    "constituer_remise",
    "contrepasser",
    "crediter_capital_rente_accident_travail",
    "crediter_interets_livret_a",
    "crediter_virement_proche",
    "debiter_part_disponible",
    "debloquer_pecule_liberation",
    "decider_alerte",
    "decider_d422",
    "demander_d422",
    "dette_contrainte_restante",
    "ecrouer",
    "encaisser_recette",
    "encaisser_subside_d422",
    "enregistrer_decision_magistrat",
    "enregistrer_prescription_jap",
    "enregistrer_retour_permission",
    "enregistrer_saisie",
    "examiner_recette",
    "fixer_permission_sortie",
    "fixer_regles_vigilance",
    "lever_contrainte_judiciaire",
    "lever_retenue",
    "lever_saisie",
    "liquider_a_la_liberation",
    "masquer_iban",
    "mettre_fin_suspension",
    "montant_bloque_d422",
    "montant_paye_saisie",
    "montant_recu_d422",
    "montant_saisissable",
    "montant_valide",
    "payer_depense_d422",
    "payer_dette_contrainte_judiciaire",
    "payer_parties_civiles",
    "payer_saisie",
    "pecule_a_placer",
    "pecule_sur_livret_a",
    "personnel_ayant_le_droit",
    "placer_pecule_livret_a",
    "placer_sous_contrainte_judiciaire",
    "preparer_retour_virement",
    "preparer_versement_entre_regies",
    "prescription_jap_en_vigueur",
    "prevenir",
    "proposer_changement_compte",
    "rapatrier_pecule_livret_a",
    "reemettre_ordre",
    "refuser_changement_compte",
    "refuser_ordre",
    "reliquat_evasion_retablissable",
    "rembourser",
    "remettre_aux_ayants_droit",
    "remettre_somme_permission",
    "renoncer_d422",
    "reprise_repartition",
    "ressources",
    "retablir_apres_evasion",
    "sort_parties_civiles_propose",
    "suspendre_peine",
    "transferer_detenu",
    "transmettre_remise",
    "valider_ordre",
    "verifier_droits",
    "verser_au_tresor_apres_deces",
    "verser_au_tresor_apres_evasion",
    "verser_volontairement_parties_civiles",
]
