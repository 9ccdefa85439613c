"""The asyncio recipes and both clients' recipe factories are written from
the sync recipes by tools/gen_recipes.py, and are up to date."""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path
from types import ModuleType

import pytest

import pykeeper
import pykeeper.aio
import pykeeper.recipes
from pykeeper.recipes.base import Recipe

ROOT = Path(__file__).resolve().parents[2]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_recipes", ROOT / "tools" / "gen_recipes.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_recipe_files_are_current() -> None:
    gen = _generator()
    assert gen.main(["--check"]) == 0, "run `python tools/gen_recipes.py`"


RECIPES = [name for name in pykeeper.recipes.__all__
           if isinstance(getattr(pykeeper.recipes, name), type)
           and issubclass(getattr(pykeeper.recipes, name), Recipe)]


@pytest.mark.parametrize("name", RECIPES)
def test_each_recipe_has_an_awaited_twin_and_factories(name: str) -> None:
    sync_cls = getattr(pykeeper.recipes, name)
    aio_cls = getattr(pykeeper.aio, name)
    fronts = {getattr(pykeeper.recipes, n) for n in RECIPES}
    shared = [c for c in sync_cls.__mro__ if c not in fronts]
    assert aio_cls is not sync_cls and all(c in aio_cls.__mro__ for c in shared)
    for attr, value in vars(sync_cls).items():
        if inspect.isfunction(value) and not attr.startswith("__"):
            assert inspect.iscoroutinefunction(getattr(aio_cls, attr)), attr
    assert callable(getattr(pykeeper.ZooKeeper, name))
    assert callable(getattr(pykeeper.aio.ZooKeeper, name))
    made = list(inspect.signature(sync_cls.__init__).parameters)[2:]
    for client_cls in (pykeeper.ZooKeeper, pykeeper.aio.ZooKeeper):
        factory = getattr(client_cls, name)
        assert list(inspect.signature(factory).parameters)[1:] == made
    if made[1:] == [] or all(inspect.signature(sync_cls.__init__).parameters[p].default
                             is not inspect.Parameter.empty for p in made[1:]):
        assert type(getattr(pykeeper.ZooKeeper("127.0.0.1:1"), name)("/r")) is sync_cls
        assert type(getattr(pykeeper.aio.ZooKeeper("127.0.0.1:1"), name)("/r")) is aio_cls

def test_a_front_method_that_drives_nothing_is_refused(tmp_path: Path) -> None:
    gen = _generator()
    import ast
    source = "class X:\n    def f(self):\n        return 1\n"
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.ClassDef)
    assert not gen._is_driven(ast.get_source_segment(source, node.body[0]) or "")
