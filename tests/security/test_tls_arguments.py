"""The TLS constructor arguments: refused at once, naming the argument at
fault; the key's password never kept or shown. No server needed."""

from __future__ import annotations

import logging
import ssl
import subprocess

import pytest

import pykeeper
import pykeeper.aio
from pykeeper.testing import make_certificates

HOSTS = "127.0.0.1:2281"
CLIENTS = [pykeeper.ZooKeeper, pykeeper.aio.ZooKeeper]


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_certificates(str(tmp_path_factory.mktemp("certs")))


@pytest.mark.parametrize("cls", CLIENTS)
def test_plain_by_default_tls_when_asked(cls, certs):
    assert cls(HOSTS).ssl_context is None and not cls(HOSTS).use_ssl
    client = cls(HOSTS, use_ssl=True, ca=certs.ca_file, certfile=certs.client_cert,
                 keyfile=certs.client_key)
    assert client.use_ssl
    context = client.ssl_context
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert len(context.get_ca_certs()) == 1  # only the given CA, not the system's too
    assert cls(HOSTS, use_ssl=True, ca=certs.ca_file, verify_hostname=False).ssl_context.check_hostname is False
    # The system's CAs when no ca is given.
    assert cls(HOSTS, use_ssl=True).ssl_context.verify_mode == ssl.CERT_REQUIRED
    given = ssl.create_default_context()
    assert cls(HOSTS, ssl_context=given).ssl_context is given


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(use_ssl=True, ca="/nonexistent/ca.pem"), FileNotFoundError, ["ca=", "/nonexistent/ca.pem"]),
    (dict(use_ssl=True, certfile="/nonexistent/c.pem"), FileNotFoundError, ["certfile="]),
    (dict(use_ssl=True, keyfile="/nonexistent/k.pem"), ValueError, ["keyfile", "certfile"]),
    (dict(ca="CA"), ValueError, ["ca", "use_ssl=True"]),
    (dict(certfile="c", keyfile="k"), ValueError, ["certfile, keyfile", "use_ssl=True"]),
    (dict(use_ssl=False, verify_hostname=False), ValueError, ["verify_hostname", "use_ssl=True"]),
    (dict(ssl_context="context"), TypeError, ["ssl_context", "ssl.SSLContext", "str"]),
    (dict(ssl_context=ssl.create_default_context(), ca="x"), ValueError, ["ca", "ssl_context"]),
    (dict(ssl_context=ssl.create_default_context(), use_ssl=False), ValueError, ["use_ssl=False"]),
    (dict(ssl_context=ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)), ValueError, ["server-side"]),
    (dict(use_ssl="yes"), TypeError, ["use_ssl"]),
    (dict(use_ssl=True, verify_hostname="no"), TypeError, ["verify_hostname"]),
    (dict(use_ssl=True, ca=42), TypeError, ["ca must be a file path"]),
    (dict(use_ssl=True, keyfile_password="pw"), ValueError, ["keyfile_password", "certfile"]),
])
@pytest.mark.parametrize("cls", CLIENTS)
def test_bad_arguments_are_refused_by_name(cls, kwargs, error, words):
    with pytest.raises(error) as info:
        cls(HOSTS, **kwargs)
    for word in words:
        assert word in str(info.value), str(info.value)


def test_unreadable_files_are_refused_by_name(certs, tmp_path):
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(ValueError, match="ca=.*junk.pem"):
        pykeeper.ZooKeeper(HOSTS, use_ssl=True, ca=str(junk))
    with pytest.raises(ValueError, match="certfile=.*junk.pem"):
        pykeeper.ZooKeeper(HOSTS, use_ssl=True, certfile=str(junk), keyfile=certs.client_key)
    # A certificate with another's key.
    with pytest.raises(ValueError, match="cannot load the client certificate"):
        pykeeper.ZooKeeper(HOSTS, use_ssl=True, certfile=certs.client_cert, keyfile=certs.server_key)


def test_encrypted_key_and_its_password_never_shown(certs, tmp_path, caplog):
    password = "s3cret-Pa55word"
    locked = tmp_path / "locked-key.pem"
    subprocess.run(["openssl", "pkey", "-in", certs.client_key, "-aes256", "-passout",
                    f"pass:{password}", "-out", str(locked)], check=True, capture_output=True)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ValueError) as info:
        pykeeper.ZooKeeper(HOSTS, use_ssl=True, ca=certs.ca_file, certfile=certs.client_cert,
                           keyfile=str(locked), keyfile_password="wrong-" + password)
    assert "keyfile_password is wrong" in str(info.value)
    assert password not in str(info.value)
    with pytest.raises(ValueError, match="is encrypted: pass keyfile_password"):
        pykeeper.ZooKeeper(HOSTS, use_ssl=True, certfile=certs.client_cert, keyfile=str(locked))
    for secret in (password, password.encode()):
        client = pykeeper.ZooKeeper(HOSTS, use_ssl=True, ca=certs.ca_file, certfile=certs.client_cert,
                                    keyfile=str(locked), keyfile_password=secret)
        assert client.use_ssl
        assert password not in repr(client)
        assert not any(password in repr(value) for value in vars(client).values())
    assert password not in caplog.text
