"""The package's floor plan: each subpackage is a layer, and nothing imports a layer above its own.

Layers, bottom up (README, Layout): ``errors``; ``catalog`` and ``transport``; ``config``; ``paragon``;
``program``; ``cli``. Imports are read from the source (module level and inside functions alike), so a lazy
import cannot hide an arrow that runs back up. Module-level imports must also form no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "provisioner"
LAYERS = {
    "errors": 0,
    "catalog": 1,
    "transport": 1,
    "entra": 1,
    "config": 2,
    "paragon": 3,
    "graph": 3,
    "program": 4,
    "cli": 5,
}
MAX_LINES = 500
"""No module over this many lines (README, Layout)."""


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(path: Path, *, top_level_only: bool) -> set[str]:
    tree = TREES[path]
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {n for n in names if n == "provisioner" or n.startswith("provisioner.")}


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 else None


MODULES = _modules()
TREES = {path: ast.parse(path.read_text(encoding="utf-8")) for path in MODULES.values()}
"""Parsed at collection: CPython 3.11's ``ast.parse`` can fail with "AST constructor recursion depth mismatch"
after other tests changed the recursion limit (python/cpython#106905)."""


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_runs_up_a_layer(module: str) -> None:
    own = _layer(module)
    if own is None:  # provisioner/__init__.py and __main__.py stand above every layer
        return
    upward = sorted(name for name in _imports(MODULES[module], top_level_only=False) if (_layer(name) or 0) > own)
    assert upward == [], f"{module} (layer {own}) imports a layer above it: {upward}"


def test_module_level_imports_form_no_cycle() -> None:
    graph = {
        module: {name for name in _imports(path, top_level_only=True) if name in MODULES and name != module}
        for module, path in MODULES.items()
    }
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*trail[trail.index(nxt) :], nxt]))
            if nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_over_the_size_limit(module: str) -> None:
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines; split it along a seam (README, Layout)"


def test_every_subpackage_is_a_known_layer() -> None:
    subpackages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert subpackages == set(LAYERS) - {"errors"}
