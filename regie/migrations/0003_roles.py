"""The staff roles and their permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VOIR = ["view_etablissement", "view_detenu", "view_comptenominatif", "view_ecriture",
        "view_ligneecriture", "view_autorisationd422", "view_evenementd422",
        "view_permissionsortie", "view_compteurmensuel"]

ROLES = {
    "Régisseur": VOIR + [
        "add_detenu", "change_detenu", "passer_ecriture", "exporter_releve",
        "add_autorisationd422", "enregistrer_decision_magistrat",
    ],
    "Chef d'établissement": VOIR + [
        "change_etablissement", "decider_d422", "fixer_permission_sortie",
        "decider_deblocage_pecule", "exporter_releve",
    ],
}


def creer_roles(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for nom, codenames in ROLES.items():
        groupe, _ = Group.objects.get_or_create(name=nom)
        groupe.permissions.set(
            Permission.objects.filter(content_type__app_label="regie", codename__in=codenames)
        )


def supprimer_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [("regie", "0002_registre_en_ajout_seul"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(creer_roles, supprimer_roles)]
