from django.contrib.auth.management import create_permissions
from django.db import migrations

ASSISTANCE = "Assistance"
PERMISSIONS = ["view_messagecontact", "change_messagecontact"]


def creer(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    groupe, _ = Group.objects.get_or_create(name=ASSISTANCE)
    groupe.permissions.set(
        Permission.objects.filter(content_type__app_label="portail", codename__in=PERMISSIONS)
    )


def supprimer(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=ASSISTANCE).delete()


class Migration(migrations.Migration):
    dependencies = [("portail", "0001_messages_contact"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(creer, supprimer)]
