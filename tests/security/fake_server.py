"""A hostile ZooKeeper server for tests.

`HostileServer` listens on a free loopback port and speaks just enough of
the protocol to get a real client going: it reads the ConnectRequest and
answers with a real ConnectResponse (captured from ZooKeeper 3.8.0), then
answers the client's first request with a malformed frame. Which frame is
given by a queue of `Plan`s, one per connection; a plan may also replace
the handshake itself with a malformed one. After sending the bad frame the
server never closes the connection itself: it waits for the client to
close it (that is the client rejecting the frame) and records how long
that took, or that it never happened within `bound` seconds (a hang).
While it waits, a plan may keep streaming bytes at the client (`flood`), to
show the client does not buffer the body of a frame it should have refused.

When the queue is empty, new connections are relayed to `forward_to` (a
real server), so the same client can be shown to reconnect and work.

`make_plans(rng, count, max_frame)` builds malformed frames of many kinds
from real replies; each kind is malformed by construction (see the notes on
each), so a client must reject every one.

Everything runs on one asyncio loop in a background thread; one loop can
serve many `HostileServer`s.
"""

from __future__ import annotations

import asyncio
import random
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Deque, Dict, List, Optional, Tuple

from tests.protocol import golden

_INT = struct.Struct(">i")
_HEADER = struct.Struct(">iqi")

GOOD_HANDSHAKE = bytes.fromhex(golden.CONNECT_RESPONSE)
SESSION_ID = golden.SESSION_ID
_HANDSHAKE_BODY = GOOD_HANDSHAKE[4:]
_STAT = bytes.fromhex(golden.SETDATA_REPLY)[20:]  # the Stat of a setData reply
assert len(_STAT) == 68  # (jute Stat: 6 longs, 5 ints)
_NOTIFICATION_BODY = bytes.fromhex(golden.NOTIFICATION)[20:]  # type, state, path


def _ustring(text: bytes) -> bytes:
    return _INT.pack(len(text)) + text


# Real reply bodies (after the 16-byte reply header), by opcode, and the
# offset of the first length field in each (None: the body has none).
_BODIES: Dict[int, Tuple[bytes, Optional[int]]] = {
    2: (b"", None),                                                  # delete
    3: (_STAT, None),                                                # exists
    4: (bytes.fromhex(golden.GETDATA_REPLY)[20:], 0),                # getData
    5: (_STAT, None),                                                # setData
    9: (_ustring(b"/golden"), 0),                                    # sync
    12: (_INT.pack(2) + _ustring(b"a") + _ustring(b"golden") + _STAT, 0),  # getChildren2
    15: (bytes.fromhex(golden.CREATE_REPLY)[20:], 0),                # create2
}
# Fields holding UTF-8 text that a mutation can break: (opcode, offset of the text).
_TEXT_AT = {9: 4, 12: 8, 15: 4}

# xids the client accepts with no request waiting (ping, SetWatches) or
# decodes as something else (a notification): never used as "wrong" xids.
_SPECIAL_XIDS = (-1, -2, -8)

Builder = Callable[[int, int], List[bytes]]


@dataclass
class Plan:
    """What one connection gets: `kind` names the mutation; `handshake`
    replaces the ConnectResponse, or else `build(xid, opcode)` gives the
    chunks answering the first request. `flood`: after them, stream up to
    that many more bytes while waiting for the client to close."""

    kind: str
    handshake: Optional[bytes] = None
    build: Optional[Builder] = None
    flood: int = 0


@dataclass
class Outcome:
    plan: Plan
    sent: bytes
    rejected: bool
    seconds: float
    opcode: Optional[int] = None


def reply_frame(xid: int, body: bytes, err: int = 0, zxid: int = 0x2A) -> bytes:
    payload = _HEADER.pack(xid, zxid, err) + body
    return _INT.pack(len(payload)) + payload


def real_body(opcode: int) -> bytes:
    return _BODIES.get(opcode, (_STAT, None))[0]


def _frame(payload: bytes) -> bytes:
    return _INT.pack(len(payload)) + payload


def _chunked(rng: random.Random, data: bytes) -> List[bytes]:
    """Split `data` into a few pieces, so the client reassembles frames
    from partial reads now and then."""
    if len(data) < 2 or rng.random() < 0.8:
        return [data]
    cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(1, 3))))
    return [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)])]


def _bad_length(rng: random.Random, max_frame: int) -> int:
    return rng.choice([0x7FFFFFFF, max_frame + 1, rng.randint(max_frame + 1, 0x7FFFFFFF),
                       -1, -0x80000000, rng.randint(-0x80000000, -1)])


def _wrong_xid(rng: random.Random, xid: int) -> int:
    while True:
        wrong = rng.choice([xid + rng.randint(1, 1000), xid - 1, 0, -4, 0x7FFFFFFF,
                            -0x80000000, rng.randint(-0x80000000, 0x7FFFFFFF)])
        if wrong != xid and wrong not in _SPECIAL_XIDS:
            return wrong


def _bad_notification(rng: random.Random) -> bytes:
    """A notification (xid -1) whose WatcherEvent record cannot be read."""
    body = _NOTIFICATION_BODY
    how = rng.randrange(5)
    if how == 0:  # cut short, inside type, state or the path
        event = body[:rng.randrange(len(body))]
    elif how == 1:  # a null path
        event = body[:8] + _INT.pack(-1)
    elif how == 2:  # a path length below -1
        event = body[:8] + _INT.pack(rng.randint(-0x80000000, -2)) + body[12:]
    elif how == 3:  # a path length past the end of the frame
        event = body[:8] + _INT.pack(rng.randint(len(body) - 11, 0x7FFFFFFF)) + body[12:]
    else:  # a path that is not UTF-8
        path = bytearray(body[12:])
        path[rng.randrange(len(path))] = rng.choice([0x80, 0xC0, 0xFE, 0xFF])
        event = body[:12] + bytes(path)
    return reply_frame(-1, event, zxid=-1)


def _reply_builders(rng: random.Random, max_frame: int) -> List[Tuple[str, Builder, int]]:
    """(kind, build(xid, opcode) -> chunks, flood) for one random frame of each kind."""

    def huge_length(xid: int, op: int) -> List[bytes]:
        # Over the client's limit (or negative): it must refuse at the
        # prefix, before reading or allocating the body.
        tail = rng.choice([b"", reply_frame(xid, real_body(op))[4:]])
        return [_INT.pack(_bad_length(rng, max_frame)) + tail]

    def short_header(xid: int, op: int) -> List[bytes]:
        full = reply_frame(xid, real_body(op))[4:]
        return _chunked(rng, _frame(full[:rng.randrange(16)]))

    def wrong_xid(xid: int, op: int) -> List[bytes]:
        return _chunked(rng, reply_frame(_wrong_xid(rng, xid), real_body(op)))

    def truncated(xid: int, op: int) -> List[bytes]:
        # Every strict prefix of these bodies is unreadable: each ends in a
        # fixed-size Stat or a counted string.
        body = real_body(op)
        if not body:  # (an empty body cannot be cut)
            return short_header(xid, op)
        return _chunked(rng, reply_frame(xid, body[:rng.randrange(len(body))]))

    def trailing(xid: int, op: int) -> List[bytes]:
        extra = bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))
        return _chunked(rng, reply_frame(xid, real_body(op) + extra))

    def inner_length(xid: int, op: int) -> List[bytes]:
        body, at = _BODIES.get(op, (None, None))
        if at is None:
            return wrong_xid(xid, op)
        real = _INT.unpack_from(body, at)[0]
        while True:
            value = rng.choice([0x7FFFFFFF, -2, -0x80000000, real + 1, real - 1,
                                rng.randint(-0x80000000, 0x7FFFFFFF)])
            # -1 means null/empty: the same as 0 for an empty value.
            if value != real and value != -1:
                break
        mutated = body[:at] + _INT.pack(value) + body[at + 4:]
        return _chunked(rng, reply_frame(xid, mutated))

    def bad_utf8(xid: int, op: int) -> List[bytes]:
        at = _TEXT_AT.get(op)
        if at is None:
            return [_bad_notification(rng)]
        body = bytearray(real_body(op))
        body[at + rng.randrange(_INT.unpack_from(body, at - 4)[0])] = rng.choice(
            [0x80, 0xBF, 0xC0, 0xC1, 0xF5, 0xFF])
        return _chunked(rng, reply_frame(xid, bytes(body)))

    def bad_notification(xid: int, op: int) -> List[bytes]:
        return _chunked(rng, _bad_notification(rng))

    def framed_garbage(xid: int, op: int) -> List[bytes]:
        junk = bytes(rng.randrange(256) for _ in range(rng.randint(0, 120)))
        return _chunked(rng, _frame(_INT.pack(_wrong_xid(rng, xid)) + junk))

    def after_good(xid: int, op: int) -> List[bytes]:
        # Good frames first (a ping reply, a notification), then a bad
        # one in the same segment: the good ones are acted on, then the
        # connection is reset.
        good = reply_frame(-2, b"", zxid=0) + bytes.fromhex(golden.NOTIFICATION)
        return [good + b"".join(rng.choice([wrong_xid, truncated, bad_notification])(xid, op))]

    return [
        ("huge_length", huge_length, 0),
        ("short_header", short_header, 0),
        ("wrong_xid", wrong_xid, 0),
        ("truncated", truncated, 0),
        ("trailing_bytes", trailing, 0),
        ("inner_length", inner_length, 0),
        ("bad_utf8", bad_utf8, 0),
        ("bad_notification", bad_notification, 0),
        ("framed_garbage", framed_garbage, 0),
        ("after_good_frames", after_good, 0),
    ]


def _bad_handshake(rng: random.Random, max_frame: int) -> Tuple[str, bytes]:
    """A ConnectResponse the client cannot accept, and its kind."""
    body = _HANDSHAKE_BODY  # version, timeout, session id, password(16), readOnly
    how = rng.randrange(6)
    if how == 0:  # cut short (a bare 16-byte reply header is a refusal: also an error)
        return "handshake_truncated", _frame(body[:rng.randrange(len(body) - 1)])
    if how == 1:
        return "handshake_bad_bool", _frame(body[:-1] + bytes([rng.randint(2, 255)]))
    if how == 2:  # a password length below -1 or past the end
        value = rng.choice([rng.randint(-0x80000000, -2), rng.randint(18, 0x7FFFFFFF)])
        return "handshake_bad_password", _frame(body[:16] + _INT.pack(value) + body[20:])
    if how == 3:
        return "handshake_huge_length", _INT.pack(_bad_length(rng, max_frame)) + body
    if how == 4:  # a refusal: a bare reply header with an error code
        return "handshake_refused", reply_frame(0, b"", err=rng.choice([-119, -4, -112, -1]))
    junk = bytes(rng.randrange(256) for _ in range(rng.randrange(20)))
    return "handshake_garbage", _frame(junk)  # too short for any ConnectResponse


def make_plans(rng: random.Random, count: int, max_frame: int,
               handshake_share: float = 0.1, flood_share: float = 0.002) -> List[Plan]:
    """`count` plans, each one malformed frame; the last answers a request."""
    plans: List[Plan] = []
    for index in range(count):
        if index < count - 1 and rng.random() < handshake_share:
            kind, frame = _bad_handshake(rng, max_frame)
            plans.append(Plan(kind, handshake=frame))
            continue
        # Each plan gets its own rng, so building it later (on the server's
        # thread) stays deterministic for a given seed.
        sub = random.Random(rng.getrandbits(64))
        builders = _reply_builders(sub, max_frame)
        if rng.random() < flood_share:
            # The prefix, then far more bytes than the limit, streamed
            # until the client hangs up.
            kind, build, flood = "huge_length_flood", builders[0][1], (max_frame + 1) * 2
        else:
            kind, build, flood = builders[rng.randrange(len(builders))]
        plans.append(Plan(kind, build=build, flood=flood))
    return plans


class ServerLoop:
    """One asyncio loop in a daemon thread, shared by several servers."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="hostile-server",
                                       daemon=True)
        self.thread.start()

    def run(self, coro, timeout: float = 30.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        async def _cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            self.run(_cancel_all(), 10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()

    def __enter__(self) -> "ServerLoop":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass
class HostileServer:
    server_loop: ServerLoop
    plans: List[Plan]
    forward_to: Optional[Tuple[str, int]] = None
    bound: float = 5.0
    outcomes: List[Outcome] = field(default_factory=list)
    relayed: int = 0

    def __post_init__(self) -> None:
        self._queue: Deque[Plan] = deque(self.plans)
        self._server: Optional[asyncio.base_events.Server] = None
        self._tasks: set = set()
        self._flood_chunk = bytes(256 * 1024)
        self.port = self.server_loop.run(self._start())

    @property
    def hosts(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def remaining(self) -> int:
        return len(self._queue)

    async def _start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self._server.sockets[0].getsockname()[1]

    def close(self) -> None:
        async def _stop() -> None:
            if self._server is not None:
                self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        self.server_loop.run(_stop())

    def __enter__(self) -> "HostileServer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- one connection --------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._tasks.add(task)
        try:
            connect = await self._read_frame(reader)
            if connect is None:
                return
            if not self._queue:
                await self._relay(connect, reader, writer)
                return
            plan = self._queue.popleft()
            if plan.handshake is not None:
                await self._hostile(plan, [plan.handshake], reader, writer, None)
                return
            writer.write(GOOD_HANDSHAKE)
            while True:
                frame = await self._read_frame(reader)
                if frame is None:  # the client left before asking anything
                    self._queue.appendleft(plan)
                    return
                xid, opcode = struct.unpack_from(">ii", frame)
                if xid == -2:
                    writer.write(reply_frame(-2, b"", zxid=0))
                elif xid > 0:
                    assert plan.build is not None
                    await self._hostile(plan, plan.build(xid, opcode), reader, writer, opcode)
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            self._tasks.discard(task)

    @staticmethod
    async def _read_frame(reader: asyncio.StreamReader) -> Optional[bytes]:
        try:
            head = await reader.readexactly(4)
            return await reader.readexactly(_INT.unpack(head)[0])
        except (asyncio.IncompleteReadError, ConnectionError):
            return None

    async def _hostile(self, plan: Plan, chunks: List[bytes], reader: asyncio.StreamReader,
                       writer: asyncio.StreamWriter, opcode: Optional[int]) -> None:
        """Send the bad frame, then wait for the client to hang up."""
        start = time.monotonic()
        flood = None
        try:
            for chunk in chunks:
                writer.write(chunk)
                if len(chunks) > 1:
                    await writer.drain()
            if plan.flood:
                flood = asyncio.ensure_future(self._flood(writer, plan.flood))
            rejected = await self._until_closed(reader)
        except ConnectionError:
            rejected = True
        finally:
            if flood is not None:
                flood.cancel()
                await asyncio.gather(flood, return_exceptions=True)
        self.outcomes.append(Outcome(plan, b"".join(chunks), rejected,
                                     time.monotonic() - start, opcode))

    async def _until_closed(self, reader: asyncio.StreamReader) -> bool:
        deadline = time.monotonic() + self.bound
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                data = await asyncio.wait_for(reader.read(65536), left)
                if not data:
                    return True
        except asyncio.TimeoutError:
            return False
        except ConnectionError:
            return True

    async def _flood(self, writer: asyncio.StreamWriter, limit: int) -> None:
        sent = 0
        try:
            while sent < limit:
                writer.write(self._flood_chunk)
                sent += len(self._flood_chunk)
                await writer.drain()
        except ConnectionError:
            pass

    async def _relay(self, connect: bytes, reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter) -> None:
        if self.forward_to is None:
            return
        self.relayed += 1
        up_reader, up_writer = await asyncio.open_connection(*self.forward_to)
        up_writer.write(_frame(connect))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while True:
                    data = await src.read(65536)
                    if not data:
                        break
                    dst.write(data)
                    await dst.drain()
            except ConnectionError:
                pass
            finally:
                dst.close()

        try:
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        finally:
            up_writer.close()
