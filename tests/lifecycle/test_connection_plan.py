"""What a driver does with a live connection's actions, sorted once for both drivers."""

from __future__ import annotations

from pykeeper.core.hosts import Address
from pykeeper.core.session import Drop, FourLetter, Send, Wait, plan_connection


def test_frames_in_order_questions_the_drop_and_the_wait() -> None:
    ask = FourLetter(Address("127.0.0.1", 2181), "isro", 1.0)
    plan = plan_connection([Send(b"a"), ask, Wait(12.5), Send(b"b"), Drop("silent")], now=10.0)
    assert plan.frames == [b"a", b"b"]
    assert plan.ask == [ask]
    assert plan.drop == "silent"
    assert plan.wait == 2.5


def test_a_wait_in_the_past_is_no_wait_and_nothing_is_no_drop() -> None:
    plan = plan_connection([Wait(9.0)], now=10.0)
    assert (plan.frames, plan.ask, plan.drop, plan.wait) == ([], [], None, 0.0)
