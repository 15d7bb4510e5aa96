"""The staff roles' permissions on transfers (added to the groups of `regie.roles`)."""

from regie.roles import CHEF_ETABLISSEMENT, REGISSEUR, ajouter_permissions

PERMISSIONS_PECULE = {
    REGISSEUR: ["view_virement", "view_evenementvirement"],
    CHEF_ETABLISSEMENT: ["view_virement", "view_evenementvirement"],
}


def ajouter_permissions_pecule(group_model, permission_model) -> None:
    ajouter_permissions(group_model, permission_model, "pecule", PERMISSIONS_PECULE)
