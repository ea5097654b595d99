"""ReadingsVersion moves from dashboards to metering; its table and rows stay as they are.

Only Django's model state changes here: the table created by dashboards 0001 keeps its
name (db_table), so no row is copied. dashboards 0002 removes the model from its state.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('communities', '0003_reading_source_order'),
        ('dashboards', '0001_initial'),
        ('metering', '0002_devices_and_ingestion'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ReadingsVersion',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('version', models.PositiveBigIntegerField(default=0, verbose_name='version')),
                        ('bumped_at', models.DateTimeField(blank=True, null=True, verbose_name='bumped at')),
                        ('community', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='communities.community', verbose_name='community')),
                    ],
                    options={
                        'verbose_name': 'readings version',
                        'verbose_name_plural': 'readings versions',
                        'db_table': 'dashboards_readingsversion',
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
