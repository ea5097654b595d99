"""Load the ISTAT municipality list shipped in cer/core/data (CC BY 3.0 IT, ISTAT)."""

import csv
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "comuni_istat.csv"


def load(apps, schema_editor):
    Municipality = apps.get_model("core", "Municipality")
    with DATA.open(encoding="utf-8", newline="") as handle:
        rows = [
            Municipality(
                istat_code=row["istat_code"],
                name=row["name"],
                region=row["region"],
                province=row["province"],
                province_abbr=row["province_abbr"],
                cadastral_code=row["cadastral_code"],
                population=int(row["population_2011"]),
            )
            for row in csv.DictReader(handle)
        ]
    Municipality.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)


def unload(apps, schema_editor):
    apps.get_model("core", "Municipality").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
