"""TLS against real servers' secure client ports, for the sync client and
the asyncio one (driven from the test's thread by the resilience tests'
AsyncioFacade): connecting, reading and writing; refusals that say why
(wrong CA, missing client certificate, wrong host name, plain TCP to the
TLS port, TLS to the plain port, a server that never answers the
handshake); resuming the session over TLS after a server restart."""

from __future__ import annotations

import socket
import ssl
import time
from typing import Any, Callable, Iterator

import pytest

import pykeeper
from pykeeper.testing import ZooKeeperServer, make_certificates

from ..support import client_factory as _factory

# Long enough for a first handshake with a cold server JVM (about 0.3 s here).
CONNECT_TIMEOUT = 2.0
# How long a test lets a client that cannot succeed try before connect() gives up.
FAIL_WITHIN = 1.0


@pytest.fixture
def make_client(kind: str) -> Iterator[Callable[..., Any]]:
    """Connected clients of `kind` (each with a `.log` of its states); closed after.
    (`kind` and `unconnected`, clients not yet connected: conftest.py.)"""
    factory = _factory(kind)
    make = next(factory)
    yield lambda hosts, **kwargs: make(hosts, **{"connect_timeout": CONNECT_TIMEOUT, **kwargs})
    next(factory, None)


def refused(client: Any) -> pykeeper.TimeoutException:
    """connect() fails within FAIL_WITHIN (plus slack): return its exception."""
    started = time.monotonic()
    with pytest.raises(pykeeper.TimeoutException) as info:
        client.connect(timeout=FAIL_WITHIN)
    assert time.monotonic() - started < FAIL_WITHIN + 3.0
    assert client.state_name == "closed"
    return info.value


# -- it works ------------------------------------------------------------------------


def test_connect_read_write_over_tls(make_client, zk_tls_server, kind):
    client = make_client(zk_tls_server.tls_hosts, **zk_tls_server.tls_options())
    assert client.use_ssl and client.state_name == "connected"
    assert client.current_server == zk_tls_server.tls_hosts
    base = f"/tls-{kind}"
    client.create_recursive(f"{base}/a", b"one")
    assert client.get(f"{base}/a")[0] == b"one"
    client.set(f"{base}/a", b"two" * 20000)  # many TLS records in one reply
    assert client.get(f"{base}/a")[0] == b"two" * 20000
    if kind == "sync":
        # Pipelined calls from the caller's thread, each its own TLS record.
        futures = [client.create_async(f"{base}/n{i}", str(i)) for i in range(200)]
        assert [future.result(10) for future in futures] == [f"{base}/n{i}" for i in range(200)]
    else:
        for i in range(200):
            client.create(f"{base}/n{i}", str(i))
    assert len(client.get_children(base)) == 201
    assert client.delete_recursive(base)
    assert client.exists(base) is None


def test_ssl_context_argument(make_client, zk_tls_server):
    context = ssl.create_default_context(cafile=zk_tls_server.ca_file)
    context.load_cert_chain(zk_tls_server.client_cert, zk_tls_server.client_key)
    client = make_client(zk_tls_server.tls_hosts, ssl_context=context)
    assert client.ssl_context is context
    assert client.get_children("/") is not None


def test_session_resumes_over_tls_after_server_restart(make_client, zk_fresh_tls_server, kind):
    server = zk_fresh_tls_server
    client = make_client(server.tls_hosts, session_timeout=20.0, **server.tls_options())
    session = client.session_id
    client.create("/eph", b"x", flags=pykeeper.EPHEMERAL)
    mark = client.log.mark()
    server.restart()
    client.log.wait_for("connecting", after=mark)
    client.log.wait_for("connected", after=mark)
    assert client.session_id == session
    assert client.get("/eph")[0] == b"x"
    client.set("/eph", b"y")
    assert client.get("/eph")[0] == b"y"


# -- refused, saying why -------------------------------------------------------------


def test_wrong_ca_is_refused_clearly(unconnected, zk_tls_server, tmp_path):
    stranger = make_certificates(str(tmp_path / "other"), name="stranger")
    client = unconnected(zk_tls_server.tls_hosts, use_ssl=True, ca=stranger.ca_file,
                        certfile=zk_tls_server.client_cert, keyfile=zk_tls_server.client_key)
    error = refused(client)
    message = str(error)
    assert "certificate verification failed" in message, message
    assert zk_tls_server.tls_hosts in message, message
    assert "unable to get local issuer certificate" in message, message
    assert error.last_error is not None and "certificate" in error.last_error
    assert isinstance(error.__cause__, pykeeper.TimeoutException)


def test_missing_client_certificate_is_refused_clearly(unconnected, zk_tls_server):
    client = unconnected(zk_tls_server.tls_hosts, use_ssl=True, ca=zk_tls_server.ca_file)
    message = str(refused(client))
    assert zk_tls_server.tls_hosts in message, message
    assert "TLS handshake failed" in message and "client certificate" in message, message


def test_client_certificate_of_another_ca_is_refused(unconnected, zk_tls_server, tmp_path):
    stranger = make_certificates(str(tmp_path / "other"), name="stranger")
    client = unconnected(zk_tls_server.tls_hosts, use_ssl=True, ca=zk_tls_server.ca_file,
                        certfile=stranger.client_cert, keyfile=stranger.client_key)
    message = str(refused(client))
    assert "TLS handshake failed" in message and "client certificate" in message, message


def test_plain_tcp_to_the_tls_port_fails_clearly(unconnected, zk_tls_server):
    client = unconnected(zk_tls_server.tls_hosts)
    message = str(refused(client))
    assert zk_tls_server.tls_hosts in message, message
    assert "closed the connection" in message and "use_ssl=True" in message, message


def test_tls_to_the_plain_port_fails_clearly(unconnected, zk_tls_server):
    client = unconnected(zk_tls_server.hosts, **zk_tls_server.tls_options())
    message = str(refused(client))
    assert zk_tls_server.hosts in message, message
    assert "TLS handshake failed" in message, message


def test_handshake_is_bounded_by_the_connect_timeout(unconnected, zk_tls_server):
    # A port that accepts connections (in its backlog) and never says a word.
    with socket.create_server(("127.0.0.1", 0), backlog=16) as mute:
        hosts = f"127.0.0.1:{mute.getsockname()[1]}"
        client = unconnected(hosts, connect_timeout=0.3, **zk_tls_server.tls_options())
        message = str(refused(client))
    assert hosts in message and "timed out" in message, message


# -- a server that asks for no client certificate; host names --------------------------


@pytest.fixture(scope="module")
def localhost_only_server() -> Iterator[ZooKeeperServer]:
    """A TLS server not asking for client certificates, whose certificate
    names only "localhost" (not 127.0.0.1)."""
    with ZooKeeperServer(tls=True, client_auth="none", tls_server_names=("localhost",)) as server:
        yield server


def test_no_client_certificate_needed_and_hostname_checked(make_client, unconnected,
                                                          localhost_only_server):
    server = localhost_only_server
    by_name = f"localhost:{server.tls_port}"
    client = make_client(by_name, use_ssl=True, ca=server.ca_file)
    client.create("/by-name", b"ok")
    assert client.get("/by-name")[0] == b"ok"
    client.delete("/by-name")

    # The certificate does not name 127.0.0.1: refused...
    message = str(refused(unconnected(server.tls_hosts, use_ssl=True, ca=server.ca_file)))
    assert "certificate verification failed" in message and "mismatch" in message, message
    # ... unless the host name check is off (the CA is still checked).
    unchecked = make_client(server.tls_hosts, use_ssl=True, ca=server.ca_file, verify_hostname=False)
    assert unchecked.exists("/") is not None
