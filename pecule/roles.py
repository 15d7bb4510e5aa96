"""The staff roles' permissions on transfers and bank statements (added to the groups
of `regie.roles`)."""

from regie.roles import CHEF_ETABLISSEMENT, REGISSEUR, ajouter_permissions

from .rapprochement import PERMISSIONS_RAPPROCHEMENT

PERMISSIONS_PECULE = {
    REGISSEUR: ["view_virement", "view_evenementvirement", *PERMISSIONS_RAPPROCHEMENT[REGISSEUR]],
    CHEF_ETABLISSEMENT: [
        "view_virement",
        "view_evenementvirement",
        *PERMISSIONS_RAPPROCHEMENT[CHEF_ETABLISSEMENT],
    ],
}


def ajouter_permissions_pecule(group_model, permission_model) -> None:
    ajouter_permissions(group_model, permission_model, "pecule", PERMISSIONS_PECULE)
