"""Fixtures for the resilience tests: clients that record every state they
pass through, so a test can wait on a state instead of sleeping."""

from __future__ import annotations

import threading
from typing import Callable, Iterator, List

import pytest

import pykeeper

WAIT = 20.0


class StateLog:
    """A listener recording every state change, with waits on them."""

    def __init__(self) -> None:
        self.states: List[str] = []
        self._cond = threading.Condition()

    def __call__(self, state: pykeeper.State) -> None:
        with self._cond:
            self.states.append(state.value)
            self._cond.notify_all()

    def wait_for(self, state: str, after: int = 0, timeout: float = WAIT) -> int:
        """Wait until `state` was recorded at index >= `after`; returns its index."""
        def found() -> bool:
            return state in self.states[after:]
        with self._cond:
            if not self._cond.wait_for(found, timeout):
                raise AssertionError(f"no {state!r} within {timeout} s; saw {self.states}")
            return self.states.index(state, after)

    def mark(self) -> int:
        with self._cond:
            return len(self.states)


@pytest.fixture
def make_client() -> Iterator[Callable[..., pykeeper.ZooKeeper]]:
    """Factory of connected clients, each with a `.log` StateLog; closed after."""
    made: List[pykeeper.ZooKeeper] = []

    def make(hosts: str, **kwargs) -> pykeeper.ZooKeeper:
        kwargs.setdefault("connect_timeout", 1.0)
        client = pykeeper.ZooKeeper(hosts, **kwargs)
        client.log = StateLog()  # type: ignore[attr-defined]
        client.add_listener(client.log)  # type: ignore[attr-defined]
        made.append(client)
        client.connect()
        return client

    yield make
    for client in made:
        client.close(timeout=2.0)
