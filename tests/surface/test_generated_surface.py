"""Every public method of both clients is written in a class body (so type
checkers and editors see it), and the generated ones are up to date."""

from __future__ import annotations

import ast
import importlib.util
import inspect
from pathlib import Path
from types import ModuleType
from typing import Any, Set

import pytest

import pykeeper
import pykeeper.aio
from pykeeper.core import operations

ROOT = Path(__file__).resolve().parents[2]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_surface", ROOT / "tools" / "gen_surface.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("relative", ["pykeeper/clients/sync.py", "pykeeper/aio/client.py"])
def test_generated_blocks_are_current(relative: str) -> None:
    gen = _generator()
    source = (ROOT / relative).read_text()
    assert gen.regenerate(source, gen.BLOCKS[relative]()) == source, (
        f"{relative} is stale: run `python tools/gen_surface.py`")


def test_a_stale_block_is_noticed() -> None:
    gen = _generator()
    source = (ROOT / "pykeeper/clients/sync.py").read_text()
    edited = source.replace("return ops.drive_future(ops.get(", "return ops.drive_future(ops.exists(", 1)
    assert edited != source
    assert gen.regenerate(edited, gen.BLOCKS["pykeeper/clients/sync.py"]()) == source


def _names_in_class_bodies(cls: type) -> Set[str]:
    """Names bound by a def or an assignment in the source of cls and its bases."""
    names: Set[str] = set()
    for klass in cls.__mro__:
        if klass is object:
            continue
        tree = ast.parse(inspect.getsource(klass))
        body = tree.body[0]
        assert isinstance(body, ast.ClassDef)
        for node in body.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names.add(node.target.id)
    return names


@pytest.mark.parametrize("cls", [pykeeper.ZooKeeper, pykeeper.aio.ZooKeeper,
                                 pykeeper.Transaction])
def test_every_public_method_is_written_in_a_class_body(cls: type) -> None:
    public = {name for name in dir(cls) if not name.startswith("_")}
    missing = public - _names_in_class_bodies(cls)
    assert not missing, f"{cls.__name__}: made at run time, invisible to type checkers: {missing}"


def test_no_setattr_on_a_class_in_the_package() -> None:
    for path in sorted((ROOT / "pykeeper").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "setattr" and node.args
                    and isinstance(node.args[0], ast.Name) and node.args[0].id[:1].isupper()):
                pytest.fail(f"{path.relative_to(ROOT)}:{node.lineno}: setattr on a class")


def _parameters(fn: Any) -> Any:
    return [(p.name, p.kind, p.default, p.annotation)
            for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("name", list(operations.CLIENT_OPERATIONS))
def test_both_clients_share_each_operation_signature(name: str) -> None:
    sync = getattr(pykeeper.ZooKeeper, name)
    coroutine = getattr(pykeeper.aio.ZooKeeper, name)
    assert inspect.iscoroutinefunction(coroutine)
    assert inspect.getdoc(coroutine) == inspect.getdoc(sync)
    returns = inspect.signature(sync).return_annotation
    assert inspect.signature(coroutine).return_annotation == returns
    operation_parameters = list(inspect.signature(operations.CLIENT_OPERATIONS[name]).parameters)
    for twin in (getattr(pykeeper.ZooKeeper, name + "_async"),
                 getattr(pykeeper.aio.ZooKeeper, name + "_async")):
        assert inspect.signature(twin).return_annotation in (
            f"Future[{returns}]", "Future[Any]" if name == "get_children" else None)
        assert [p for p in _parameters(coroutine) if p[0] in ["self", *operation_parameters]] \
            == _parameters(twin)
        assert [p for p in inspect.signature(twin).parameters][1:] == operation_parameters[1:]
    assert _parameters(coroutine) == _parameters(sync)
    assert "Future" in (pykeeper.ZooKeeper.__dict__[name + "_async"].__doc__ or "")


def test_set2_is_set() -> None:
    assert pykeeper.aio.ZooKeeper.set2 is pykeeper.aio.ZooKeeper.set
