"""Rejected notifications aggregated per provider, reason, address and hour (issue 11):
the existing rows get their hour and are merged, then the unique constraint is added."""

import django.utils.timezone
from django.db import migrations, models


def regrouper(apps, schema_editor):
    NotificationRejetee = apps.get_model("pecule", "NotificationRejetee")
    gardees = {}
    for rejet in NotificationRejetee.objects.order_by("recue_le", "pk"):
        periode = rejet.recue_le.replace(minute=0, second=0, microsecond=0)
        cle = (rejet.fournisseur, rejet.motif, rejet.adresse_ip, periode)
        gardee = gardees.get(cle)
        if gardee is None:
            rejet.periode, rejet.derniere_le, rejet.nombre = periode, rejet.recue_le, 1
            rejet.save(update_fields=["periode", "derniere_le", "nombre"])
            gardees[cle] = rejet
        else:
            gardee.nombre += 1
            gardee.derniere_le = rejet.recue_le
            gardee.save(update_fields=["derniere_le", "nombre"])
            rejet.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("pecule", "0005_inbox_relance"),
    ]

    operations = [
        migrations.AddField(
            model_name="notificationrejetee",
            name="periode",
            field=models.DateTimeField(
                null=True, help_text="Début de l'heure où ces rejets sont comptés.", verbose_name="heure"
            ),
        ),
        migrations.AddField(
            model_name="notificationrejetee",
            name="derniere_le",
            field=models.DateTimeField(
                default=django.utils.timezone.now, verbose_name="dernière reçue le"
            ),
        ),
        migrations.AddField(
            model_name="notificationrejetee",
            name="nombre",
            field=models.PositiveIntegerField(default=1, verbose_name="nombre de rejets"),
        ),
        migrations.RunPython(regrouper, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="notificationrejetee",
            name="periode",
            field=models.DateTimeField(
                help_text="Début de l'heure où ces rejets sont comptés.", verbose_name="heure"
            ),
        ),
        migrations.AlterField(
            model_name="notificationrejetee",
            name="extrait",
            field=models.TextField(blank=True, verbose_name="début du premier corps"),
        ),
        migrations.AlterField(
            model_name="notificationrejetee",
            name="recue_le",
            field=models.DateTimeField(
                default=django.utils.timezone.now, verbose_name="première reçue le"
            ),
        ),
        migrations.AddIndex(
            model_name="notificationrejetee",
            index=models.Index(fields=["derniere_le"], name="pecule_noti_dernier_25e9bc_idx"),
        ),
        migrations.AddConstraint(
            model_name="notificationrejetee",
            constraint=models.UniqueConstraint(
                fields=("fournisseur", "motif", "adresse_ip", "periode"),
                name="notification_rejetee_par_heure",
                nulls_distinct=False,
            ),
        ),
    ]
