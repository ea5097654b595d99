"""Partition the hourly readings table by Europe/Rome month on PostgreSQL.

Every row is moved into the partition of its month (made for each month that holds data,
and for this month and the next three); a DEFAULT partition catches the rest. SQLite keeps
one table. See cer/metering/partitions.py.
"""

from django.db import migrations
from django.utils import timezone


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from cer.metering import partitions

    with schema_editor.connection.cursor() as cursor:
        partitions.partition(cursor, timezone.now())


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from cer.metering import partitions

    with schema_editor.connection.cursor() as cursor:
        partitions.unpartition(cursor)


class Migration(migrations.Migration):
    dependencies = [
        ("metering", "0007_packed_quality"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
