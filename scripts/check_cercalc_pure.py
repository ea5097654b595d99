"""Fail when any module of cercalc imports Django: the engine stays pure Python and NumPy."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

FORBIDDEN = ("django", "cer")


def forbidden_imports(root: Path) -> list[str]:
    """Return 'file:line module' for each import of a forbidden package under `root`."""
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                if name.split(".")[0] in FORBIDDEN:
                    found.append(f"{path}:{node.lineno} {name}")
    return found


def main() -> int:
    root = Path(__file__).resolve().parent.parent / "cercalc"
    found = forbidden_imports(root)
    for line in found:
        sys.stderr.write(f"cercalc must not import Django or the apps: {line}\n")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
