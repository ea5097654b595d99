"""The apps import downwards only, and no two modules import each other.

The layers are declared in `cer/layers.py`; `scripts/import_graph.py` reads the imports
(lazy and `TYPE_CHECKING` ones included, migrations left out) and prints the same
reports as these failures: run it while fixing them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cer.layers import LAYER_NAMES, LAYER_OF, layer_of
from scripts.import_graph import (
    circles,
    find_imports,
    find_modules,
    report_circles,
    report_wrong_way,
    wrong_way,
)

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURE_DOC = ROOT / "docs" / "architecture.md"


def test_every_app_under_cer_has_a_layer():
    apps = {path.name for path in (ROOT / "cer").iterdir() if (path / "__init__.py").exists()}

    unplaced = sorted(app for app in apps if f"cer.{app}" not in LAYER_OF)

    assert apps, "cer/ has no apps to check"
    assert unplaced == [], f"give these apps a layer in cer/layers.py: {', '.join(unplaced)}"


@pytest.fixture(scope="module")
def project_imports():
    """Every module of cer/ and cercalc/ and every import they make, read once."""
    modules = find_modules(ROOT)
    return modules, find_imports(ROOT, modules)


def test_no_app_imports_a_higher_layer(project_imports):
    _, imports = project_imports

    arrows, unplaced = wrong_way(imports)

    assert unplaced == [], f"packages with no layer in cer/layers.py: {', '.join(unplaced)}"
    if arrows:
        pytest.fail(report_wrong_way(arrows, ROOT), pytrace=False)


def test_no_two_modules_import_each_other(project_imports):
    modules, imports = project_imports

    components = circles(imports, modules)

    if components:
        pytest.fail(report_circles(components, imports, ROOT), pytrace=False)


def test_the_architecture_page_shows_every_package_on_its_layer():
    documented = _layers_in_doc(ARCHITECTURE_DOC.read_text(encoding="utf-8"))

    assert documented == {name: layer for name, layer in LAYER_OF.items()}, (
        "docs/architecture.md and cer/layers.py disagree; "
        "`python scripts/import_graph.py --table` prints the table to paste"
    )


def test_the_layers_are_numbered_from_the_engine_up_to_the_project():
    assert sorted(LAYER_NAMES) == list(range(len(LAYER_NAMES)))
    assert set(LAYER_OF.values()) == set(LAYER_NAMES)
    assert layer_of("cercalc.settle") == 0
    assert layer_of("cer.metering.models") == LAYER_OF["cer.metering"]
    assert layer_of("config.settings") == max(LAYER_NAMES)
    assert layer_of("django.db") is None


# --- the tool itself, on small made-up trees ----------------------------------------


def test_a_lazy_import_of_a_higher_layer_is_reported_with_its_line(tmp_path):
    _write(
        tmp_path,
        "cer/core/helpers.py",
        "import os\n\n\ndef f():\n    from cer.dashboards import q\n",
    )
    _write(tmp_path, "cer/dashboards/q.py", "from cer.core.helpers import f\n")

    arrows, unplaced = _wrong_way(tmp_path)

    assert unplaced == []
    assert [(a.from_app, a.to_app, a.imp.line, a.imp.kind) for a in arrows] == [
        ("cer.core", "cer.dashboards", 5, "lazy")
    ]
    assert "cer/core/helpers.py:5  cer.dashboards.q  [lazy]" in report_wrong_way(arrows, tmp_path)


def test_a_type_checking_import_and_an_included_url_map_count(tmp_path):
    _write(
        tmp_path,
        "cer/plants/views.py",
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from cer.billing.models import Invoice\n"
        "urls = include('cer.api.urls')\n",
    )
    _write(tmp_path, "cer/billing/models.py", "")
    _write(tmp_path, "cer/api/urls.py", "")

    arrows, _ = _wrong_way(tmp_path)

    assert [(a.to_app, a.imp.kind) for a in arrows] == [
        ("cer.billing", "type-checking"),
        ("cer.api", "string"),
    ]


def test_imports_within_a_layer_and_downwards_pass_and_migrations_are_skipped(tmp_path):
    _write(
        tmp_path,
        "cer/billing/models.py",
        "from cer.settlement import models\nimport cercalc.money\n",
    )
    _write(tmp_path, "cer/settlement/models.py", "from cer.core import fields\n")
    _write(tmp_path, "cer/core/fields.py", "")
    _write(tmp_path, "cer/core/migrations/0001_initial.py", "import cer.api.fields\n")
    _write(tmp_path, "cercalc/money.py", "")

    arrows, unplaced = _wrong_way(tmp_path)

    assert arrows == []
    assert unplaced == []


def test_an_app_missing_from_the_table_is_named(tmp_path):
    _write(tmp_path, "cer/newapp/models.py", "from cer.core import fields\n")
    _write(tmp_path, "cer/core/fields.py", "")

    _, unplaced = _wrong_way(tmp_path)

    assert unplaced == ["cer.newapp"]


def test_a_circle_is_reported_with_the_imports_that_close_it(tmp_path):
    _write(tmp_path, "cer/billing/models.py", "def f():\n    from cer.billing.pdf import g\n")
    _write(tmp_path, "cer/billing/pdf.py", "from . import text\n")
    _write(tmp_path, "cer/billing/text.py", "from cer.billing.models import f\n")
    _write(tmp_path, "cer/billing/alone.py", "from cer.billing import models\n")
    modules = find_modules(tmp_path)
    imports = find_imports(tmp_path, modules)

    components = circles(imports, modules)

    assert components == [["cer.billing.models", "cer.billing.pdf", "cer.billing.text"]]
    report = report_circles(components, imports, tmp_path)
    assert "cer/billing/models.py:2  cer.billing.models -> cer.billing.pdf  [lazy]" in report
    assert "cer/billing/pdf.py:1  cer.billing.pdf -> cer.billing.text" in report


def _write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    for parent in path.relative_to(root).parents:
        if parent != Path("."):
            (root / parent / "__init__.py").touch()
    path.write_text(text, encoding="utf-8")


def _wrong_way(root: Path):
    modules = find_modules(root)
    return wrong_way(find_imports(root, modules))


def _layers_in_doc(text: str) -> dict[str, int]:
    """Read the rows '| <layer> | <name> | `pkg`, `pkg` | …' of the page's layer table."""
    found = {}
    for match in re.finditer(r"^\| (\d+) \| [^|]+ \| ([^|]+) \|", text, flags=re.MULTILINE):
        for name in re.findall(r"`([a-z_.]+)`", match.group(2)):
            found[name] = int(match.group(1))
    return found


def test_a_module_placed_on_a_higher_floor_is_judged_on_it(tmp_path):
    # cer.access stands with the nouns, its module `money` on the money floor: it may read
    # billing, while the nouns' module of the same package may not read it.
    _write(tmp_path, "cer/access/money.py", "from cer.billing import models\n")
    _write(tmp_path, "cer/access/visibility.py", "from cer.access import money\n")
    _write(tmp_path, "cer/billing/models.py", "")

    arrows, unplaced = _wrong_way(tmp_path)

    assert unplaced == []
    assert [(a.imp.source, a.imp.target, a.from_layer, a.to_layer) for a in arrows] == [
        ("cer.access.visibility", "cer.access.money", 2, 5)
    ]
