"""The a* calls against a real server: each returns OK at once and calls
its completion with the binding's arguments -- (handle, rc, result...),
the failure shapes the C binding built (None, [] ...) -- on the handle's
event thread, never the caller's, in call order; a completion that raises
is printed and the next one still runs; bad arguments raise at the call."""

from __future__ import annotations

import threading
from typing import Any, Callable, List, Tuple

import pytest

from pykeeper import zookeeper

from ..support import WAIT, Recorder
from .conftest import OPEN_ACL

READ_ACL = [{"perms": zookeeper.PERM_READ | zookeeper.PERM_ADMIN, "scheme": "world",
             "id": "anyone"}]


def completed(start: Callable[[Recorder], int]) -> Tuple[Any, ...]:
    """Run an a* call with a Recorder as its completion; the one call it got."""
    done = Recorder()
    assert start(done) == zookeeper.OK
    assert done.wait_for(1), "the completion never ran"
    assert done.threads[0] is not threading.current_thread()
    return tuple(done.calls[0])


def test_acreate_adelete(zh: int, base: str) -> None:
    path = base + "/a"
    assert completed(lambda cb: zookeeper.acreate(zh, path, "v", OPEN_ACL, 0, cb)) \
        == (zh, zookeeper.OK, path)
    assert completed(lambda cb: zookeeper.acreate(zh, path, "v", OPEN_ACL, 0, cb)) \
        == (zh, zookeeper.NODEEXISTS, None)
    seq = completed(lambda cb: zookeeper.acreate(zh, base + "/s-", "", OPEN_ACL,
                                                 zookeeper.SEQUENCE | zookeeper.EPHEMERAL, cb))
    assert seq[1] == zookeeper.OK and seq[2].startswith(base + "/s-")
    assert len(seq[2]) == len(base + "/s-") + 10
    assert completed(lambda cb: zookeeper.adelete(zh, path, 5, cb)) == (zh, zookeeper.BADVERSION)
    assert completed(lambda cb: zookeeper.adelete(zh, path, -1, cb)) == (zh, zookeeper.OK)
    assert completed(lambda cb: zookeeper.adelete(zh, path, -1, cb)) == (zh, zookeeper.NONODE)


def test_aget_aset_aexists(zh: int, base: str) -> None:
    path = zookeeper.create(zh, base + "/g", "on", OPEN_ACL)
    handle, rc, stat = completed(lambda cb: zookeeper.aset(zh, path, "off", 0, cb))
    assert (handle, rc) == (zh, zookeeper.OK) and stat["version"] == 1
    assert completed(lambda cb: zookeeper.aset(zh, path, "x", 0, cb)) \
        == (zh, zookeeper.BADVERSION, None)
    handle, rc, value, stat = completed(lambda cb: zookeeper.aget(zh, path, None, cb))
    assert (rc, value, stat) == (zookeeper.OK, "off", zookeeper.exists(zh, path))
    assert completed(lambda cb: zookeeper.aget(zh, base + "/none", None, cb)) \
        == (zh, zookeeper.NONODE, None, None)
    assert completed(lambda cb: zookeeper.aexists(zh, path, None, cb)) \
        == (zh, zookeeper.OK, zookeeper.exists(zh, path))
    assert completed(lambda cb: zookeeper.aexists(zh, base + "/none", None, cb)) \
        == (zh, zookeeper.NONODE, None)


def test_aget_children_aget_acl_aset_acl_async(zh: int, base: str) -> None:
    zookeeper.create(zh, base + "/k1", "", OPEN_ACL)
    zookeeper.create(zh, base + "/k2", "", OPEN_ACL)
    handle, rc, names = completed(lambda cb: zookeeper.aget_children(zh, base, None, cb))
    assert rc == zookeeper.OK and sorted(names) == ["k1", "k2"]
    assert completed(lambda cb: zookeeper.aget_children(zh, base + "/none", None, cb)) \
        == (zh, zookeeper.NONODE, [])
    handle, rc, acls, stat = completed(lambda cb: zookeeper.aget_acl(zh, base + "/k1", cb))
    assert (rc, acls, stat["aversion"]) == (zookeeper.OK, OPEN_ACL, 0)
    assert completed(lambda cb: zookeeper.aget_acl(zh, base + "/none", cb)) \
        == (zh, zookeeper.NONODE, [], None)
    assert completed(lambda cb: zookeeper.aset_acl(zh, base + "/k1", 0, READ_ACL, cb)) \
        == (zh, zookeeper.OK)
    assert zookeeper.get_acl(zh, base + "/k1")[1] == READ_ACL
    assert completed(lambda cb: zookeeper.aset_acl(zh, base + "/k1", 0, OPEN_ACL, cb)) \
        == (zh, zookeeper.BADVERSION)
    assert completed(lambda cb: getattr(zookeeper, "async")(zh, base, cb)) \
        == (zh, zookeeper.OK, base)


def test_a_call_without_completion_still_applies(zh: int, base: str) -> None:
    assert zookeeper.acreate(zh, base + "/quiet", "q", OPEN_ACL) == zookeeper.OK
    assert zookeeper.aset(zh, base + "/quiet", "r") == zookeeper.OK
    # (replies come in call order: the sync read after them sees both writes)
    assert zookeeper.get(zh, base + "/quiet")[0] == "r"


def test_completions_run_in_call_order_on_one_thread(zh: int, base: str) -> None:
    done = Recorder()
    for i in range(50):
        zookeeper.acreate(zh, f"{base}/n{i:02d}", str(i), OPEN_ACL, 0, done)
        zookeeper.aget(zh, f"{base}/n{i:02d}", None, done)
    assert done.wait_for(100)
    assert [call[2] for call in done.calls[0::2]] == [f"{base}/n{i:02d}" for i in range(50)]
    assert [call[2] for call in done.calls[1::2]] == [str(i) for i in range(50)]
    assert len({thread.ident for thread in done.threads}) == 1


def test_a_completion_may_call_the_module_even_blocking(zh: int, base: str) -> None:
    seen = Recorder()

    def completion(handle: int, rc: int, path: str) -> None:
        seen(zookeeper.get(handle, path)[0], zookeeper.get_children(handle, base))

    zookeeper.acreate(zh, base + "/nested", "inner", OPEN_ACL, 0, completion)
    assert seen.wait_for(1)
    assert seen.calls[0] == ("inner", ["nested"])


def test_a_completion_that_raises_is_printed_and_the_next_runs(
        zh: int, base: str, capfd: pytest.CaptureFixture[str]) -> None:
    def broken(*args: Any) -> None:
        raise RuntimeError("completion bug")

    after = Recorder()
    zookeeper.aexists(zh, base, None, broken)
    zookeeper.aexists(zh, base, None, after)
    assert after.wait_for(1)
    assert "RuntimeError: completion bug" in capfd.readouterr().err


def test_non_utf8_data_is_marshallingerror_in_aget_unless_binary(
        open_handle: Callable[..., Tuple[int, Recorder]], zh: int, base: str,
        capfd: pytest.CaptureFixture[str]) -> None:
    path = zookeeper.create(zh, base + "/raw", b"\xff\xfe", OPEN_ACL)
    assert completed(lambda cb: zookeeper.aget(zh, path, None, cb)) \
        == (zh, zookeeper.MARSHALLINGERROR, None, None)
    assert "binary=True" in capfd.readouterr().err
    binary, _ = open_handle(binary=True)
    handle, rc, value, stat = completed(lambda cb: zookeeper.aget(binary, path, None, cb))
    assert (rc, value) == (zookeeper.OK, b"\xff\xfe")


@pytest.mark.parametrize("call, error", [
    (lambda zh, base: zookeeper.aget(zh, base, None, "nope"), zookeeper.InvalidCallbackException),
    (lambda zh, base: zookeeper.aget(zh, base, 42, None), zookeeper.InvalidCallbackException),
    (lambda zh, base: zookeeper.acreate(zh, base + "/x", "", OPEN_ACL, 0, 1),
     zookeeper.InvalidCallbackException),
    (lambda zh, base: zookeeper.acreate(zh, base + "/x", "", {"perms": 31}, 0, None),
     zookeeper.InvalidACLException),
    (lambda zh, base: zookeeper.acreate(zh, "x", "", OPEN_ACL, 0, None),
     zookeeper.BadArgumentsException),
    (lambda zh, base: zookeeper.acreate(zh, base + "/x", "", OPEN_ACL, 99, None),
     zookeeper.BadArgumentsException),
    (lambda zh, base: zookeeper.aset(zh, base, object(), -1, None), TypeError),
    (lambda zh, base: zookeeper.adelete(zh, base, "v", None), TypeError),
    (lambda zh, base: zookeeper.aset_acl(zh, base, -1, "world:anyone", None),
     zookeeper.InvalidACLException),
    (lambda zh, base: getattr(zookeeper, "async")(zh, "", None), zookeeper.BadArgumentsException),
])
def test_bad_arguments_raise_at_the_call_and_nothing_completes(
        zh: int, base: str, call: Callable[..., Any], error: type) -> None:
    with pytest.raises(error):
        call(zh, base)
    assert zookeeper.get_children(zh, base) == []


def test_every_call_may_be_made_from_many_threads_at_once(zh: int, base: str) -> None:
    done = Recorder()
    errors: List[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(20):
                path = zookeeper.create(zh, f"{base}/t{n}-{i}", "x", OPEN_ACL)
                zookeeper.aget(zh, path, None, done)
        except BaseException as exc:  # (reported by the assertion below)
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert not errors and done.wait_for(80)
    assert all(call[1] == zookeeper.OK and call[2] == "x" for call in done.calls)
    assert len(zookeeper.get_children(zh, base)) == 80
