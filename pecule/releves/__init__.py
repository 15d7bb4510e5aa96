"""The relative's PDF statement of their transfers over the last six months.

- `services`: the six-month query shared by the HTML history and the PDF
  (`virements_des_six_derniers_mois`), the request (`demander_releve`, idempotent per
  day and scope), the rendering (`produire`), the verification code and the clean-up;
- `tasks`: the Celery tasks (render one statement, re-queue the stale requests, delete
  the expired ones);
- `views` and `urls`: request, status (JSON, polled by static/portail/releve.js) and
  download, each only for the relative who asked.
Its model is `pecule.models.releves.ReleveProche`; its back-office (the read-only list and
the « Vérifier un code » page) is `pecule.admin.releves`.

This module only holds the permissions the staff roles get (no model import: the data
migration uses it).
"""

from regie.roles import CHEF_ETABLISSEMENT, REGISSEUR, ajouter_permissions

# Permission codenames of the `pecule` app given to each role: checking a statement's
# verification code in the back-office.
PERMISSIONS_RELEVES = {
    REGISSEUR: ["view_releveproche"],
    CHEF_ETABLISSEMENT: ["view_releveproche"],
}


def ajouter_permissions_releves(group_model, permission_model) -> None:
    """Give each existing role group the statements' permissions (leaving its others
    alone). Used by the migration and wherever the tables were emptied."""
    ajouter_permissions(group_model, permission_model, "pecule", PERMISSIONS_RELEVES)
