"""Load the ISTAT municipality list shipped in cer/core/data (CC BY 3.0 IT, ISTAT)."""

from django.db import migrations

from cer.core.reference import load_municipalities


def load(apps, schema_editor):
    load_municipalities(apps.get_model("core", "Municipality"))


def unload(apps, schema_editor):
    apps.get_model("core", "Municipality").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
