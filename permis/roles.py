"""The permissions the staff roles get on visit permits.

`regie.roles` defines the roles (groups) and their régie permissions; this module only
adds the permis ones to the same groups (migration 0002, and `ajouter_permissions_permis`
wherever the tables were emptied, such as transactional tests). Tokens of the
information systems are managed by superusers only.
"""

from regie.roles import CHEF_ETABLISSEMENT, REGISSEUR, ajouter_permissions

GERER_PERMIS = [
    "view_permisdevisite",
    "add_permisdevisite",
    "change_permisdevisite",
    "view_permisenregistre",
    "view_evenementpermis",
    "view_signalementtransfert",
]

PERMISSIONS_PERMIS = {
    REGISSEUR: GERER_PERMIS,
    CHEF_ETABLISSEMENT: [*GERER_PERMIS, "view_tentativeenregistrement"],
}


def ajouter_permissions_permis(group_model, permission_model) -> None:
    """Give each existing role group its permis permissions (leaving its others alone)."""
    ajouter_permissions(group_model, permission_model, "permis", PERMISSIONS_PERMIS)
