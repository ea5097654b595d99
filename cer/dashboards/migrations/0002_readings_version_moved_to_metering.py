"""ReadingsVersion now belongs to metering (metering 0003); the table and its rows stay."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('dashboards', '0001_initial'),
        ('metering', '0003_readings_version'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='ReadingsVersion')],
            database_operations=[],
        ),
    ]
