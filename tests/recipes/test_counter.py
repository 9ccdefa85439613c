"""Counter against a real server, on both clients, and beside kazoo's."""

from __future__ import annotations

import threading
from typing import Any, Callable, List

import pytest
from kazoo.client import KazooClient

from .conftest import make_recipe


def test_value_add_and_the_values_around_a_change(
        make_any_client: Callable[..., Any], recipe: Callable[..., Any], path: str) -> None:
    counter = recipe(make_any_client(), "Counter", path)
    assert counter.add(5) == 5
    assert (counter.pre_value, counter.post_value) == (0, 5)
    assert counter.add(-2) == 3
    value = counter.value
    assert (value() if callable(value) else value) == 3


def test_float_counter_and_type_checks(
        make_any_client: Callable[..., Any], recipe: Callable[..., Any], path: str) -> None:
    client = make_any_client()
    counter = recipe(client, "Counter", path, default=0.5)
    assert counter.add(1.25) == 1.75
    with pytest.raises(TypeError, match="counts in floats"):
        counter.add(1)
    with pytest.raises(TypeError, match="default"):
        recipe(client, "Counter", path, default="0")


def test_sync_operators(make_client: Callable[..., Any], path: str) -> None:
    counter = make_client().Counter(path)
    counter += 10
    counter -= 3
    counter = counter + 1
    assert counter.value == 8 and counter.post_value == 8


def test_concurrent_changes_from_both_clients_and_kazoo_sum_exactly(
        zk_server: Any, make_any_client: Callable[..., Any], path: str) -> None:
    ours = [make_recipe(make_any_client(), "Counter", path) for _ in range(2)]
    kazoo = KazooClient(hosts=zk_server.hosts)
    kazoo.start()
    try:
        theirs = kazoo.Counter(path)
        errors: List[BaseException] = []

        def run(step: Callable[[], Any]) -> None:
            try:
                for _ in range(25):
                    step()
            except BaseException as exc:  # (reported below)
                errors.append(exc)

        steps: List[Callable[[], Any]] = [lambda c=c: c.add(1) for c in ours]
        steps.append(lambda: theirs.__add__(1))
        threads = [threading.Thread(target=run, args=(s,)) for s in steps for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        assert theirs.value == 25 * len(threads)
        value = ours[0].value
        assert (value() if callable(value) else value) == 25 * len(threads)
    finally:
        kazoo.stop()
        kazoo.close()


def test_curator_shared_count_format(make_client: Callable[..., Any], path: str) -> None:
    client = make_client()
    counter = client.Counter(path, support_curator=True)
    assert counter.add(7) == 7
    assert client.get(path)[0] == b"\x00\x00\x00\x07"
    with pytest.raises(TypeError, match="SharedCount"):
        client.Counter(path, default=1.0, support_curator=True)


def test_a_node_that_is_not_a_number_is_reported(
        make_client: Callable[..., Any], path: str) -> None:
    client = make_client()
    client.create(path, b"not a number")
    with pytest.raises(ValueError, match="does not hold an int"):
        client.Counter(path).add(1)
