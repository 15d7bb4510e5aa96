"""The staff roles' permissions on visit permits."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from permis.roles import PERMISSIONS_PERMIS, ajouter_permissions_permis


def ajouter(apps, schema_editor):
    app_config = apps.get_app_config("permis")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    ajouter_permissions_permis(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def retirer(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for groupe in Group.objects.filter(name__in=PERMISSIONS_PERMIS):
        groupe.permissions.remove(
            *Permission.objects.filter(content_type__app_label="permis")
        )


class Migration(migrations.Migration):
    dependencies = [
        ("permis", "0001_initial"),
        ("regie", "0003_roles"),
    ]
    operations = [migrations.RunPython(ajouter, retirer)]
