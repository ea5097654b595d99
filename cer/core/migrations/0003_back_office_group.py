"""Create the back-office group: staff who register and verify plants across communities."""

from django.db import migrations

BACK_OFFICE_GROUP = "back-office"


def create(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name=BACK_OFFICE_GROUP)


def remove(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=BACK_OFFICE_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0002_load_municipalities"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create, remove)]
