"""pykeeper.testing's TLS server (certificates made during the run) and its
server with a digest super user, checked with Python's own ssl module and
the client."""

from __future__ import annotations

import os
import socket
import ssl

import pytest

import pykeeper
from pykeeper import ACL, Id, Perms
from pykeeper.testing import ZooKeeperServer, make_certificates
from proc_checks import zookeeper_alive


def _handshake(server: ZooKeeperServer, certfile=None, keyfile=None, ca=None) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=ca or server.ca_file)
    if certfile:
        context.load_cert_chain(certfile, keyfile)
    raw = socket.create_connection(("127.0.0.1", server.tls_port), timeout=5)
    return context.wrap_socket(raw, server_hostname="127.0.0.1")


def test_tls_server_serves_tls_with_its_own_certificates(zk_tls_server: ZooKeeperServer) -> None:
    server = zk_tls_server
    assert server.tls_port not in (None, server.port)
    assert server.tls_hosts == f"127.0.0.1:{server.tls_port}"
    for path in (server.ca_file, server.client_cert, server.client_key):
        assert os.path.isfile(path) and path.startswith(server.data_dir)
    config = server.config
    assert config["secureClientPort"] == str(server.tls_port)
    assert config["ssl.clientAuth"] == "need"
    assert server.four_letter("ruok") == "imok"  # the plain port stays open
    with _handshake(server, server.client_cert, server.client_key) as sock:
        names = set(sock.getpeercert()["subjectAltName"])
        assert sock.version() in ("TLSv1.2", "TLSv1.3")
    assert {("IP Address", "127.0.0.1"), ("DNS", "localhost")} <= names, names
    assert server.tls_options() == {"use_ssl": True, "ca": server.ca_file,
                                    "certfile": server.client_cert, "keyfile": server.client_key}


def test_tls_server_needs_a_client_certificate_of_its_ca(zk_tls_server: ZooKeeperServer, tmp_path) -> None:
    stranger = make_certificates(str(tmp_path), name="stranger")
    for cert, key in ((None, None), (stranger.client_cert, stranger.client_key)):
        with pytest.raises((ssl.SSLError, ConnectionError)):
            with _handshake(zk_tls_server, cert, key) as sock:
                # (With TLS 1.3 the refusal may only show on the first read.)
                sock.sendall(b"\0\0\0\0")
                if not sock.recv(1):
                    raise ConnectionResetError("closed")


def test_tls_server_leaves_nothing_behind() -> None:
    with ZooKeeperServer(tls=True, client_auth="none") as server:
        pid, directory = server.pid, server.data_dir
        with _handshake(server) as sock:  # no client certificate needed
            assert sock.version()
    assert not zookeeper_alive(pid)
    assert not os.path.exists(directory)


def test_secure_options_are_checked() -> None:
    with pytest.raises(ValueError, match="client_auth"):
        ZooKeeperServer(tls=True, client_auth="maybe")
    with pytest.raises(ValueError, match="tls_port"):
        ZooKeeperServer(tls_port=12345)
    with pytest.raises(ValueError, match="super_password"):
        ZooKeeperServer(super_password="")
    plain = ZooKeeperServer()
    try:
        assert plain.tls_port is None
        with pytest.raises(RuntimeError, match="tls=True"):
            plain.tls_hosts
        with pytest.raises(RuntimeError, match="super_password"):
            plain.super_credentials
    finally:
        plain.close()


def test_auth_server_super_user_may_do_anything(zk_auth_server: ZooKeeperServer) -> None:
    user, password = "alice", "alice-secret"
    owner = pykeeper.ZooKeeper(zk_auth_server.hosts)
    stranger = pykeeper.ZooKeeper(zk_auth_server.hosts)
    root = pykeeper.ZooKeeper(zk_auth_server.hosts)
    try:
        for client in (owner, stranger, root):
            client.connect()
        owner.add_auth("digest", f"{user}:{password}")
        owner.create("/private", b"mine", acl=[ACL(Perms.ALL, Id("auth", ""))])
        with pytest.raises(pykeeper.NoAuthException):
            stranger.get("/private")
        assert zk_auth_server.super_credentials.startswith("super:")
        root.add_auth("digest", zk_auth_server.super_credentials)
        assert root.get("/private")[0] == b"mine"
        root.delete("/private")
        assert owner.exists("/private") is None
    finally:
        for client in (owner, stranger, root):
            client.close()
    assert password not in repr(zk_auth_server)
