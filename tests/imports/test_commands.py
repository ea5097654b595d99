"""The import commands: thin wrappers around the services."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from cer.imports.models import ImportBatch
from cer.incentives.models import ZonalPrice
from cer.metering.models import HourlyReading
from tests.imports.conftest import FIXTURES

pytestmark = pytest.mark.django_db


def test_import_curves_command_imports_a_file(community, points):
    call_command(
        "import_curves",
        str(FIXTURES / "curves" / "edistribuzione_day_rows_october.csv"),
        community=community.pk,
    )

    assert HourlyReading.objects.count() == 146


def test_import_curves_command_reads_a_mapping_file(community, points, tmp_path):
    mapping = tmp_path / "mapping.json"
    mapping.write_text(
        json.dumps(
            {
                "pod": "meter",
                "timestamp": "local time",
                "withdrawn": "import Wh",
                "injected": "export Wh",
                "unit": "Wh",
                "decimal": ".",
                "delimiter": ",",
            }
        )
    )

    call_command(
        "import_curves",
        str(FIXTURES / "curves" / "mapped_march.csv"),
        community=community.pk,
        mapping=str(mapping),
    )

    assert HourlyReading.objects.count() == 23


def test_import_curves_command_fails_on_a_refused_file(community, points):
    with pytest.raises(CommandError, match="refused: No header row"):
        call_command(
            "import_curves", str(FIXTURES / "curves" / "wrong_header.csv"), community=community.pk
        )


def test_import_prices_command_imports_several_files():
    call_command(
        "import_prices",
        str(FIXTURES / "prices" / "20250330MGPPrezzi.xml"),
        str(FIXTURES / "prices" / "20251002MGPPrezzi.csv"),
    )

    assert ImportBatch.objects.count() == 2
    assert ZonalPrice.objects.count() == 161 + 672
