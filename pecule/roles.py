"""The staff roles' permissions on transfers, bank statements and relatives' PDF
statements (added to the groups of `regie.roles`)."""

from regie.roles import CHEF_ETABLISSEMENT, REGISSEUR, ajouter_permissions

from .rapprochement import PERMISSIONS_RAPPROCHEMENT
from .releves import PERMISSIONS_RELEVES

VIREMENTS = ["view_virement", "view_evenementvirement"]

PERMISSIONS_PECULE = {
    role: [*VIREMENTS, *PERMISSIONS_RAPPROCHEMENT[role], *PERMISSIONS_RELEVES[role]]
    for role in (REGISSEUR, CHEF_ETABLISSEMENT)
}


def ajouter_permissions_pecule(group_model, permission_model) -> None:
    ajouter_permissions(group_model, permission_model, "pecule", PERMISSIONS_PECULE)
