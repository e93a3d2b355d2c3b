"""The package is layered: no import cycles, counting every kind of import.

``lint-imports`` checks the layer order written in ``pyproject.toml``; this test checks the
property the order exists for — no module can reach itself through imports — over every
``import`` statement in ``src/glacier``: module-level, inside functions, and under
``if TYPE_CHECKING:``. The contract lists no ``ignore_imports``: no import points up.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"


def _modules() -> dict[str, Path]:
    out = {}
    for path in (SRC / "glacier").rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(module: str, path: Path, known: Iterable[str]) -> set[str]:
    """The glacier modules ``module`` imports, wherever in the file the import is."""
    names = set(known)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            # `from pkg import sub` imports pkg.sub when sub is a module, else pkg.
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in names else base)
    out = set()
    for name in found:
        while name and name not in names:
            name = name.rpartition(".")[0]
        if name.startswith("glacier") and name != module:
            out.add(name)
    return out


def _allowed_upward() -> set[tuple[str, str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    pairs = set()
    for contract in contracts:
        for line in contract.get("ignore_imports", []):
            source, _, target = line.partition(" -> ")
            pairs.add((source.strip(), target.strip()))
    return pairs


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        for v in sorted(edges):
            if v not in index:
                visit(v)
    finally:
        sys.setrecursionlimit(limit)
    return found


def test_src_has_no_import_cycles() -> None:
    modules = _modules()
    allowed = _allowed_upward()
    edges = {
        m: {t for t in _imports(m, p, modules) if (m, t) not in allowed} for m, p in modules.items()
    }
    assert _cycles(edges) == []


def test_no_import_runs_up_the_layers() -> None:
    # pipeline.run() reaches the runner through glacier.dispatch, where it registers itself.
    assert _allowed_upward() == set()
    modules = _modules()
    for graph_module in ("glacier.pipeline", "glacier.flow", "glacier.executors.local"):
        assert "glacier.runner" not in _imports(graph_module, modules[graph_module], modules)


#: Package facades a layer cannot hold (a layer holds its subpackages, and these packages'
#: modules are spread over many layers): the composition root, lazy exports, an empty package,
#: the infrastructure model's re-exported names.
FACADES = {"glacier", "glacier.infra", "glacier.adapters", "glacier.checks", "glacier.infra.model"}


def test_every_module_is_in_a_layer() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (contract,) = config["tool"]["importlinter"]["contracts"]
    layers = {
        name.strip() for row in contract["layers"] for name in row.replace("|", ":").split(":")
    }
    outside = [
        m
        for m in _modules()
        if m not in FACADES and not any(m == n or m.startswith(n + ".") for n in layers)
    ]
    assert outside == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


#: The longest a module of src/glacier may be: past it, one module holds several concepts.
MAX_MODULE_LINES = 800


def _too_long(modules: dict[str, Path], limit: int) -> dict[str, int]:
    lengths = {name: len(path.read_text().splitlines()) for name, path in modules.items()}
    return {name: n for name, n in sorted(lengths.items()) if n > limit}


def test_no_module_is_over_800_lines() -> None:
    too_long = _too_long(_modules(), MAX_MODULE_LINES)
    assert too_long == {}


def test_the_length_check_finds_a_long_module(tmp_path: Path) -> None:
    long = tmp_path / "long.py"
    long.write_text("x = 1\n" * (MAX_MODULE_LINES + 1))
    short = tmp_path / "short.py"
    short.write_text("x = 1\n" * MAX_MODULE_LINES)
    modules = {"long": long, "short": short}
    assert _too_long(modules, MAX_MODULE_LINES) == {"long": MAX_MODULE_LINES + 1}
