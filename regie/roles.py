"""The staff roles and their permissions (created by migration 0003, and again by
`synchroniser_roles` wherever the tables were emptied, such as transactional tests)."""

VOIR = [
    "view_etablissement",
    "view_detenu",
    "view_comptenominatif",
    "view_ecriture",
    "view_ligneecriture",
    "view_autorisationd422",
    "view_evenementd422",
    "view_permissionsortie",
    "view_compteurmensuel",
    "view_ordrevirement",
    "view_evenementordre",
    "view_remise",
    "view_changementcompteregie",
    # Issue 12: the écrou's situation, JAP prescriptions, garnishments, vigilance.
    "view_evenementsituation",
    "view_prescriptionjap",
    "view_saisie",
    "view_paiementsaisie",
    "view_alertevigilance",
    "view_reglesvigilance",
    "view_retenueemetteur",
]

REGISSEUR = "Régisseur"
CHEF_ETABLISSEMENT = "Chef d'établissement"

ROLES = {
    REGISSEUR: [
        *VOIR,
        "add_detenu",
        "change_detenu",
        "passer_ecriture",
        "exporter_releve",
        "add_autorisationd422",
        "enregistrer_decision_magistrat",
        "constituer_remise",
        "add_changementcompteregie",
        "enregistrer_situation",
    ],
    CHEF_ETABLISSEMENT: [
        *VOIR,
        "change_etablissement",
        "decider_d422",
        "fixer_permission_sortie",
        "decider_deblocage_pecule",
        "exporter_releve",
        "valider_ordrevirement",
        "constituer_remise",
        "add_changementcompteregie",
        "approuver_changementcompteregie",
        "enregistrer_situation",
        "decider_vigilance",
        "change_reglesvigilance",
    ],
}


def synchroniser_roles(group_model, permission_model) -> None:
    """Create the role groups and give them exactly their régie permissions (the other
    apps' permissions of these groups are left as they are)."""
    for nom, codenames in ROLES.items():
        groupe, _ = group_model.objects.get_or_create(name=nom)
        regie = permission_model.objects.filter(content_type__app_label="regie")
        groupe.permissions.remove(*regie.exclude(codename__in=codenames))
        groupe.permissions.add(*regie.filter(codename__in=codenames))


def ajouter_permissions(group_model, permission_model, app_label: str, par_role: dict) -> None:
    """Give each existing role group the listed permissions of another app (its other
    permissions are left as they are): how `permis` and `pecule` extend the roles."""
    for nom, codenames in par_role.items():
        groupe = group_model.objects.filter(name=nom).first()
        if groupe is not None:
            groupe.permissions.add(
                *permission_model.objects.filter(
                    content_type__app_label=app_label, codename__in=codenames
                )
            )
