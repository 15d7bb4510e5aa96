"""Reconciliation of the régie's bank statement (ISO 20022 camt.053) with the transfers.

- `camt`: reads a camt.053.001.02 or .08 file, validated against the official XSD;
- `services`: `importer_releve` and the three lists of the régisseur;
- `forms`: the import form.
Its models are `pecule.models.rapprochement` (`ReleveBancaire`, one imported statement,
and `LigneReleve`, its lines and their matching state); its back-office pages (import,
statement, reconciliation per establishment) are `pecule.admin.rapprochement`.

This module only holds the permissions the staff roles get (no model import: the data
migration uses it).
"""

from regie.roles import CHEF_ETABLISSEMENT, REGISSEUR, ajouter_permissions

# Permission codenames of the `pecule` app given to each role.
PERMISSIONS_RAPPROCHEMENT = {
    REGISSEUR: [
        "view_relevebancaire",
        "view_lignereleve",
        "importer_releve",
        "view_rapportpain002",
    ],
    CHEF_ETABLISSEMENT: ["view_relevebancaire", "view_lignereleve", "view_rapportpain002"],
}


def ajouter_permissions_rapprochement(group_model, permission_model) -> None:
    """Give each existing role group its reconciliation permissions (leaving its others
    alone). Used by migration 0002 and wherever the tables were emptied (transactional
    tests)."""
    ajouter_permissions(group_model, permission_model, "pecule", PERMISSIONS_RAPPROCHEMENT)
