"""The staff roles and their permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from regie.roles import ROLES, synchroniser_roles


def creer_roles(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    synchroniser_roles(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def supprimer_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("regie", "0002_registre_en_ajout_seul"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunPython(creer_roles, supprimer_roles)]
