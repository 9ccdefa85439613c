"""The package's folder tree shows its layers: each layer imports only the
layers below it, and no module imports itself back through others."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set

import pykeeper

ROOT = Path(pykeeper.__file__).parent
# Bottom up; a module may import from its own layer and the ones before it.
LAYERS = ["protocol", "core", "recipes", "drivers", "clients", "aio", "testing", "zookeeper",
          "cli"]


def _modules() -> Dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: Dict[str, Path]) -> Set[str]:
    """The pykeeper modules `name` imports (at run time: not under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text())
    skipped: Set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(n) for n in ast.walk(node))
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out: Set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            submodules = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in modules]
            out.update(submodules)
            if len(submodules) < len(node.names) and target in modules:
                out.add(target)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in modules)
    out.discard(name)
    return out


def _layer(name: str) -> int:
    parts = name.split(".")
    if len(parts) == 1 or parts[1] == "__main__":
        return len(LAYERS)  # the package's front: pykeeper/__init__.py (and __main__.py)
    return LAYERS.index(parts[1]) if parts[1] in LAYERS else -1


def test_every_module_sits_in_a_layer() -> None:
    loose = [name for name in _modules() if name != "pykeeper" and _layer(name) < 0]
    assert not loose, f"modules outside the layer folders {LAYERS}: {loose}"


def test_each_layer_imports_only_the_layers_below_it() -> None:
    modules = _modules()
    wrong: List[str] = []
    for name, path in modules.items():
        for target in _imports(name, path, modules):
            if _layer(target) > _layer(name):
                wrong.append(f"{name} imports {target}")
    assert not wrong, "\n".join(sorted(wrong))


def test_there_is_no_import_circle() -> None:
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    circles: List[List[str]] = []

    def visit(node: str, trail: List[str], done: Set[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt in trail:
                circles.append(trail[trail.index(nxt):] + [nxt])
            elif nxt not in done:
                visit(nxt, trail + [nxt], done)
        done.add(node)

    done: Set[str] = set()
    for start in sorted(graph):
        if start not in done:
            visit(start, [start], done)
    assert not circles, "import circles:\n" + "\n".join(" -> ".join(c) for c in circles)
