"""Fixtures for the resilience tests: clients that record every state they
pass through (in `.log`, a StateLog), so a test can wait on a state instead
of sleeping.

`make_client` makes sync clients; `make_any_client` is parametrized over
the sync client and the asyncio one, the latter driven from the test's
thread through `AsyncioFacade`, so one test body proves both."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

import pykeeper

from ..support import client_factory


@pytest.fixture
def make_client() -> Iterator[Callable[..., pykeeper.ZooKeeper]]:
    """Factory of connected sync clients, each with a `.log` StateLog; closed after."""
    yield from client_factory("sync")


@pytest.fixture(params=["sync", "asyncio"])
def make_any_client(request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """Like make_client, once with the sync client and once with the asyncio one."""
    yield from client_factory(request.param)
