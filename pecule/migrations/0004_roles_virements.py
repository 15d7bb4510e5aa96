"""Régisseurs and chefs d'établissement see the transfers of their régie."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from pecule.roles import ajouter_permissions_pecule


def ajouter(apps, schema_editor):
    app_config = apps.get_app_config("pecule")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    ajouter_permissions_pecule(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [("pecule", "0003_releves_proches"), ("regie", "0003_roles")]
    operations = [migrations.RunPython(ajouter, migrations.RunPython.noop)]
