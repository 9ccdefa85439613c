"""The README's example session runs as a doctest against a real server of its own."""

from __future__ import annotations

import pytest
from _pytest.doctest import DoctestItem


@pytest.fixture(autouse=True)
def _readme_server(request: pytest.FixtureRequest, doctest_namespace: dict) -> None:
    if isinstance(request.node, DoctestItem):
        server = request.getfixturevalue("zk_fresh_server")
        doctest_namespace["hosts"] = server.hosts
