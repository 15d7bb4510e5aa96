"""Issue 12: the log of the écrou's situation is append-only like the ledger (PostgreSQL
trigger, the function of migration 0002), and the roles receive the new permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from regie.roles import synchroniser_roles

CREATION = """
CREATE TRIGGER regie_evenementsituation_ajout_seul BEFORE UPDATE OR DELETE
    ON regie_evenementsituation FOR EACH ROW EXECUTE FUNCTION regie_ajout_seul();
"""
SUPPRESSION = """
DROP TRIGGER IF EXISTS regie_evenementsituation_ajout_seul ON regie_evenementsituation;
"""


def creer(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATION, params=None)
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    synchroniser_roles(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def supprimer(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SUPPRESSION, params=None)


class Migration(migrations.Migration):
    dependencies = [("regie", "0006_loi_corrections_situations_vigilance")]
    operations = [migrations.RunPython(creer, supprimer)]
