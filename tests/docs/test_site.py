"""The documentation site: it builds with no warning (a broken link or a
stale reference fails), every public name has its reference entry, and
every code example on it runs against a real server.

Examples: each page's ```python blocks run in order in one namespace that
starts with `pykeeper`, `hosts` (a real server's, under a chroot of the
page's own), `server` and `cleanup(fn)` (fn runs at the end); a page may
prepare more in a hidden `<!-- setup: ... -->` comment (run where it
stands), and a block that cannot run here is marked `<!-- not run: why -->`
just before it. Blocks written as a session (`>>>`) run as doctests; a
block (or setup) with a top-level `await` runs on the page's event loop."""

from __future__ import annotations

import ast
import asyncio
import doctest
import inspect
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest

import pykeeper
import pykeeper.aio
import pykeeper.recipes
import pykeeper.testing

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
REFERENCE = {"pykeeper": "reference/pykeeper", "pykeeper.aio": "reference/aio",
             "pykeeper.recipes": "reference/recipes", "pykeeper.testing": "reference/testing"}

_PIECE = re.compile(r"<!-- (setup|not run): (.*?) -->|^```python\n(.*?)^```", re.S | re.M)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
                           cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert built.returncode == 0, built.stderr[-4000:]
    return out


def test_the_site_builds_without_a_warning(site: Path) -> None:
    assert (site / "index.html").exists() and (site / "guides" / "security" / "index.html").exists()


def test_the_site_loads_nothing_from_another_host(site: Path) -> None:
    # (Read offline or behind a firewall, a page must look as it does online.)
    fetched = re.compile(r'<(?:script|link|img)\b[^>]*\b(?:src|href)="(?:https?:)?//[^"]*"')
    remote = {f"{page.relative_to(site)}: {tag}" for page in site.rglob("*.html")
              for tag in fetched.findall(page.read_text())
              if "rel=\"canonical\"" not in tag}
    assert not remote, sorted(remote)[:5]


@pytest.mark.parametrize("module", [pykeeper, pykeeper.aio, pykeeper.recipes, pykeeper.testing],
                         ids=lambda m: m.__name__)
def test_every_public_name_has_a_reference_entry(site: Path, module: Any) -> None:
    html = (site / REFERENCE[module.__name__] / "index.html").read_text()
    anchors = set(re.findall(r'id="([^"]+)"', html))
    missing = [name for name in module.__all__ if f"{module.__name__}.{name}" not in anchors]
    assert not missing, f"no reference entry for {missing}"


def pieces(page: str) -> Iterator[Tuple[str, str, int]]:
    """(kind, text, line) of the page's setups, skips and python blocks."""
    text = (DOCS / page).read_text()
    for match in _PIECE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        if match.group(1):
            yield match.group(1), match.group(2), line
        else:
            yield "code", match.group(3), line


@pytest.mark.parametrize("page", [p for p in PAGES if any(k == "code" for k, _, _ in pieces(p))])
def test_every_code_example_runs(page: str, zk_server: Any) -> None:
    # (Each page gets a tree of its own: `hosts` carries a fresh chroot.)
    root = "/docs-" + uuid.uuid4().hex[:12]
    with pykeeper.ZooKeeper(zk_server.hosts) as admin:
        admin.create(root)
    namespace: Dict[str, Any] = {"pykeeper": pykeeper, "hosts": zk_server.hosts + root,
                                 "server": zk_server, "__name__": "__docs__"}
    skip = False
    ran: List[int] = []
    cleanups: List[Any] = []
    namespace["cleanup"] = cleanups.append
    loop = asyncio.new_event_loop()

    def run(text: str, where: str) -> None:
        code = compile(text, where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        result = eval(code, namespace)
        if inspect.isawaitable(result):  # (a top-level await: the page's loop runs it)
            loop.run_until_complete(result)

    try:
        for kind, text, line in pieces(page):
            where = f"{page}:{line}"
            if kind == "not run":
                assert text.strip(), f"{where}: say why the next block does not run"
                skip = True
            elif kind == "setup":
                run(text, where)
            elif skip:
                skip = False
            elif ">>>" in text:
                test = doctest.DocTestParser().get_doctest(text, namespace, where, page, line)
                runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
                runner.run(test, out=lambda report: None)
                assert not runner.failures, f"{where}: the session does not run as shown"
                ran.append(line)
            else:
                run(text, where)
                ran.append(line)
    finally:
        for fn in reversed(cleanups):
            result = fn()
            if inspect.isawaitable(result):
                loop.run_until_complete(result)
        loop.close()
    assert ran, f"{page}: no example ran"
