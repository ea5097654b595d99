"""The engine must not depend on Django: this check fails when it does."""

from __future__ import annotations

from pathlib import Path

from scripts.check_cercalc_pure import forbidden_imports


def test_cercalc_imports_neither_django_nor_the_apps():
    root = Path(__file__).resolve().parent.parent / "cercalc"

    assert list(root.glob("*.py")), "cercalc has no modules to check"
    assert forbidden_imports(root) == []


def test_the_check_catches_a_django_import(tmp_path):
    (tmp_path / "bad.py").write_text("import numpy\nfrom django.db import models\n")
    (tmp_path / "good.py").write_text("from decimal import Decimal\n")

    assert forbidden_imports(tmp_path) == [f"{tmp_path / 'bad.py'}:2 django.db"]
