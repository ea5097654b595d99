"""Print the imports that break the layers of `cer/layers.py`, and every circle of modules.

Run it from the repository root while moving code; it exits 1 while there is something
to fix:

    .venv/bin/python scripts/import_graph.py            # wrong-way imports and circles
    .venv/bin/python scripts/import_graph.py --table    # the layer table as Markdown

What counts as an import (the same for both checks):

- every ``import`` and ``from … import`` statement, wherever it is: at the top, inside a
  function (a lazy import is still a dependency, only a later one) and under
  ``if TYPE_CHECKING:`` (the type checker still needs the other module, and a reader
  still has to know it); relative imports are resolved against the importing module;
- a string naming a module of ours passed to ``include(...)`` or ``import_module(...)``
  (a URL map that includes another app's URLs depends on it as much as an import);
- ``from package import name`` points at ``package.name`` when that is a module, else at
  ``package`` itself (its ``__init__``). Importing ``a.b.c`` does not count as importing
  the ``__init__`` of ``a`` and ``a.b``: Python runs them, but they hold no code here.

Migrations are left out. A migration is a frozen copy of the models at some past
commit; the validators and fields it imports from another app mirror an import of
the app's ``models.py``, which is checked. The order between apps' migrations is
given by dependency strings, not by imports.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cer.layers import LAYER_NAMES, LAYER_OF, layer_of  # noqa: E402

PACKAGES = ("cer", "cercalc")
# Calls whose first argument, a string, names a module they load.
LOADING_CALLS = ("include", "import_module")


@dataclass(frozen=True)
class Import:
    """One import of `target` by `source`, at `line` of `path`; `kind` says how it is made."""

    source: str
    target: str
    path: Path
    line: int
    kind: str  # "top", "lazy", "type-checking" or "string"

    def where(self, root: Path) -> str:
        """Return 'path:line' relative to `root`, the form editors jump to."""
        return f"{_relative(self.path, root)}:{self.line}"


@dataclass(frozen=True)
class WrongWay:
    """An import from an app of a lower layer to one of a higher layer."""

    imp: Import
    from_app: str
    from_layer: int
    to_app: str
    to_layer: int


def find_modules(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    """Return dotted module name → file for every .py of `packages` under `root`.

    Migrations are skipped (see the module docstring); a package is named by its
    ``__init__.py``.
    """
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root).with_suffix("")
            if "migrations" in relative.parts:
                continue
            parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
            modules[".".join(parts)] = path
    return modules


def find_imports(root: Path, modules: dict[str, Path]) -> list[Import]:
    """Return every import made by `modules`, resolved to the most specific module name."""
    found = []
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, kind in _walk(tree):
            for target in _targets(node, name, is_package, modules):
                found.append(Import(name, target, path, node.lineno, kind))
    return found


def wrong_way(imports: Iterable[Import]) -> tuple[list[WrongWay], list[str]]:
    """Return the imports that go up a layer, and the packages the table does not place.

    Only imports between the packages of `cer/layers.py` (the apps `cer.<app>`,
    `cercalc`, `config`) are judged; the standard library and third-party packages are
    not. Modules directly under `cer/` (its ``__init__`` and the table itself) belong
    to no app and are skipped.
    """
    arrows = []
    unplaced = set()
    for imp in imports:
        from_app = _app(imp.source)
        to_app = _app(imp.target)
        if from_app is None or to_app is None:
            continue
        # The table may place one module of an app on another floor than the rest
        # (cer.access.money): each side is judged by its most specific entry.
        from_layer, to_layer = layer_of(imp.source), layer_of(imp.target)
        if from_app == to_app and from_layer == to_layer:
            continue
        if from_layer is None:
            unplaced.add(from_app)
            continue
        if to_layer is None:
            unplaced.add(to_app)
            continue
        if to_layer > from_layer:
            arrows.append(WrongWay(imp, from_app, from_layer, to_app, to_layer))
    return arrows, sorted(unplaced)


def circles(imports: Iterable[Import], modules: Iterable[str]) -> list[list[str]]:
    """Return every strongly connected component of more than one module, sorted.

    Two modules are in one component when each reaches the other through imports:
    a circle, whatever the kind of the imports that close it.
    """
    nodes = set(modules)
    graph: dict[str, set[str]] = {node: set() for node in nodes}
    for imp in imports:
        if imp.target in nodes and imp.target != imp.source:
            graph[imp.source].add(imp.target)
    components = [sorted(c) for c in _strongly_connected(graph) if len(c) > 1]
    return sorted(components)


def report_wrong_way(arrows: list[WrongWay], root: Path) -> str:
    """Return the wrong-way imports grouped by pair of apps: the to-do list."""
    if not arrows:
        return ""
    by_pair: dict[tuple[str, str], list[WrongWay]] = defaultdict(list)
    for arrow in arrows:
        by_pair[(arrow.from_app, arrow.to_app)].append(arrow)
    lines = [
        f"{len(arrows)} imports in {len(by_pair)} app pairs go up a layer "
        "(an app may import its own layer or a lower one; the table is cer/layers.py):"
    ]
    for (from_app, to_app), group in sorted(by_pair.items()):
        first = group[0]
        lines.append(
            f"  {_short(from_app)} ({_layer_label(first.from_layer)}) -> "
            f"{_short(to_app)} ({_layer_label(first.to_layer)})"
        )
        for arrow in sorted(group, key=lambda a: (str(a.imp.path), a.imp.line)):
            note = "" if arrow.imp.kind == "top" else f"  [{arrow.imp.kind}]"
            lines.append(f"      {arrow.imp.where(root)}  {arrow.imp.target}{note}")
    return "\n".join(lines)


def report_circles(components: list[list[str]], imports: Iterable[Import], root: Path) -> str:
    """Return each circle with its members and the imports that tie them together."""
    if not components:
        return ""
    lines = [f"{len(components)} circles of modules that import each other:"]
    imports = list(imports)
    for number, members in enumerate(components, start=1):
        inside = set(members)
        lines.append(f"  circle {number}: {', '.join(members)}")
        ties = [i for i in imports if i.source in inside and i.target in inside]
        for imp in sorted(ties, key=lambda i: (i.source, i.line)):
            note = "" if imp.kind == "top" else f"  [{imp.kind}]"
            lines.append(f"      {imp.where(root)}  {imp.source} -> {imp.target}{note}")
    return "\n".join(lines)


def markdown_table() -> str:
    """Return the layer table as the Markdown rows that docs/architecture.md shows."""
    lines = ["| layer | name | packages |", "| --- | --- | --- |"]
    for layer in sorted(LAYER_NAMES, reverse=True):
        names = sorted(name for name, value in LAYER_OF.items() if value == layer)
        packages = ", ".join(f"`{name}`" for name in names)
        lines.append(f"| {layer} | {LAYER_NAMES[layer]} | {packages} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", action="store_true", help="print the layer table as Markdown")
    args = parser.parse_args(argv)
    if args.table:
        sys.stdout.write(markdown_table() + "\n")
        return 0
    modules = find_modules(ROOT)
    imports = find_imports(ROOT, modules)
    arrows, unplaced = wrong_way(imports)
    components = circles(imports, modules)
    sections = [
        f"packages with no layer in cer/layers.py: {', '.join(unplaced)}" if unplaced else "",
        report_wrong_way(arrows, ROOT),
        report_circles(components, imports, ROOT),
    ]
    text = "\n\n".join(section for section in sections if section)
    sys.stdout.write((text or "No import goes up a layer; no circle of modules.") + "\n")
    return 1 if text else 0


# --- helpers -------------------------------------------------------------------------


def _walk(tree: ast.Module) -> Iterator[tuple[ast.stmt | ast.expr, str]]:
    """Yield each import statement and loading call of `tree` with how it is made."""

    def visit(node: ast.AST, kind: str) -> Iterator[tuple[ast.stmt | ast.expr, str]]:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, kind
            return
        if isinstance(node, ast.Call) and _loaded_module(node) is not None:
            yield node, "string"
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for statement in node.body:
                yield from visit(statement, "type-checking")
            for statement in node.orelse:
                yield from visit(statement, kind)
            return
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) and kind == "top":
            kind = "lazy"
        for child in ast.iter_child_nodes(node):
            yield from visit(child, kind)

    yield from visit(tree, "top")


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _loaded_module(call: ast.Call) -> str | None:
    """Return the module a call such as include("cer.x.urls") loads, if it names one of ours."""
    function = call.func
    name = function.id if isinstance(function, ast.Name) else getattr(function, "attr", None)
    if name not in LOADING_CALLS or not call.args:
        return None
    first = call.args[0]
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return None
    ours = first.value.startswith("cer.") or first.value.split(".")[0] in LAYER_OF
    return first.value if ours else None


def _targets(
    node: ast.stmt | ast.expr, source: str, is_package: bool, modules: dict[str, Path]
) -> list[str]:
    """Return the dotted names one import statement or loading call points at."""
    if isinstance(node, ast.Import):
        return [_known(alias.name, modules) for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        base = _absolute(node.module, node.level, source, is_package)
        targets = []
        for alias in node.names:
            candidate = f"{base}.{alias.name}"
            targets.append(candidate if candidate in modules else _known(base, modules))
        return sorted(set(targets))
    if isinstance(node, ast.Call):
        loaded = _loaded_module(node)
        return [_known(loaded, modules)] if loaded else []
    return []


def _absolute(module: str | None, level: int, source: str, is_package: bool) -> str:
    """Resolve `from .x import y` against the importing module's package."""
    if level == 0:
        return module or ""
    package = source.split(".") if is_package else source.split(".")[:-1]
    base = package[: len(package) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def _known(name: str, modules: dict[str, Path]) -> str:
    """Return the longest prefix of `name` that is one of our modules, else `name` itself."""
    parts = name.split(".")
    for length in range(len(parts), 0, -1):
        prefix = ".".join(parts[:length])
        if prefix in modules:
            return prefix
    return name


def _app(module: str) -> str | None:
    """Return the entry of the layer table a module belongs to: 'cer.<app>', 'cercalc', 'config'.

    None for the standard library, third-party packages and the modules directly under
    `cer/` (its ``__init__`` and `cer/layers.py`, which belong to no app).
    """
    parts = module.split(".")
    if parts[0] == "cer":
        if len(parts) < 2 or parts[1] == "layers":
            return None
        return ".".join(parts[:2])
    if parts[0] in LAYER_OF:
        return parts[0]
    return None


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative (the graph is a few hundred modules deep at most)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = counter
                    counter += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    advanced = True
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components


def _short(app: str) -> str:
    return app.removeprefix("cer.")


def _layer_label(layer: int) -> str:
    return f"{layer} {LAYER_NAMES[layer]}"


def _relative(path: Path, root: Path) -> Path:
    try:
        return path.relative_to(root)
    except ValueError:
        return path


if __name__ == "__main__":
    sys.exit(main())
