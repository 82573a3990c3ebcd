"""The tree reads as the architecture: no module reaches up a layer, packages form no cycle.

Every ``import`` of the source tree is read (module level and inside functions) and checked
against the layers: core at the bottom; io (file formats) on core; the device kinds on core and
io, never on each other; the hub on the memristor kind; the nodes (rclpy adapters) and the
analysis of recordings on top.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "neurohybrid"
ROOT = "root"

ALLOWED = {
    "core": set(),
    "io": {"core"},
    "legacy": {"core"},
    "mea": {"core", "io"},
    "board": {"core", "io"},
    "memristor": {"core", "io"},
    "robot": {"core", "io"},
    "neurorobot": {"core", "io", "mea", "board", "memristor", "hub", "robot"},
    "hub": {"core", "io", "memristor"},
    "transport": {"core", "process_group"},
    "launcher": {"core", "process_group"},
    "analysis": {"core", "io", "mea", "robot"},
    "live": {"core", "io"},
    "testing": {"core", "io", "mea", "board", "memristor", "hub", "legacy", "launcher", "nodes", "process_group",
                "transport", "robot"},
    "nodes": {"core", "io", "mea", "board", "memristor", "hub", "legacy", "live", "robot"},
}
"""What each package may import besides itself (``msg``/``srv`` are generated messages, always allowed)."""
GENERATED = {"msg", "srv"}


def _layer(module: str) -> str:
    """``neurohybrid.mea.sim`` -> ``mea``; a root module is its own layer (``neurohybrid.cli`` -> ``cli``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ROOT


def _imports() -> dict[str, set[str]]:
    """Module name -> neurohybrid modules it imports."""
    out: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("neurohybrid")}
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("neurohybrid"):
                found.add(node.module)
        out[name] = found
    return out


IMPORTS = _imports()
EXECUTABLES = set(re.search(r"set\(NEUROHYBRID_NODES\s+([^)]*)\)", (PACKAGE.parent / "CMakeLists.txt").read_text())
                  .group(1).split())
"""The node executables (``ros2 run neurohybrid <node>``), one module each in ``neurohybrid.nodes``."""


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_a_package_imports_only_the_layers_below_it(layer):
    wrong = sorted(
        (module, imported)
        for module, imported_set in IMPORTS.items() if _layer(module) == layer
        for imported in imported_set
        if _layer(imported) not in ALLOWED[layer] | GENERATED | {layer} and imported != "neurohybrid"
    )
    assert wrong == [], f"{layer} reaches outside {sorted(ALLOWED[layer])}: {wrong}"


def test_the_packages_form_no_import_cycle():
    graph: dict[str, set[str]] = defaultdict(set)
    for module, imported_set in IMPORTS.items():
        for imported in imported_set:
            a, b = _layer(module), _layer(imported)
            if a != b and b not in GENERATED and imported != "neurohybrid":
                graph[a].add(b)
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            assert state.get(nxt) != "open", f"import cycle: {' -> '.join(path + [node, nxt])}"
            if nxt not in state:
                visit(nxt, path + [node])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [])


def test_the_board_never_imports_the_mea_and_mea_and_io_are_one_way():
    assert not any(_layer(i) == "mea" for m, s in IMPORTS.items() if _layer(m) == "board" for i in s)
    assert not any(_layer(i) in ("mea", "board", "memristor") for m, s in IMPORTS.items() if _layer(m) == "io"
                   for i in s)


def test_nodes_import_no_backend_module_and_no_other_node():
    """Backends register when their kind is imported, never from a node; nodes never import each other."""
    for module, imported in IMPORTS.items():
        if _layer(module) != "nodes":
            continue
        backends = [i for i in imported if i.rsplit(".", 1)[-1] in ("sim", "replay", "template")]
        assert backends == [], f"{module} imports backend modules {backends}"
        others = [i for i in imported if i.rsplit(".", 1)[-1] in EXECUTABLES]
        assert others == [], f"{module} imports the nodes {others}"


def test_the_root_holds_only_the_application_modules():
    root = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert root == ["__init__", "__main__", "cli", "demo", "kernels", "parameters", "process_group"]
