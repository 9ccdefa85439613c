"""SASL without a server: DIGEST-MD5 against RFC 2831's worked example and
its failure cases, and the protocol's SASL phase fed frames built from the
jute spec (GetSASLRequest / SetSASLResponse)."""

from __future__ import annotations

import hashlib
from typing import Dict, List

import pytest

from pykeeper.protocol import ClientProtocol, Connected
from pykeeper.protocol import requests as rq
from pykeeper.protocol.client_protocol import SaslFailed
from pykeeper.protocol.sasl import DigestMD5, SaslError, parse_directives

from . import jute_schema as js
from .test_client_protocol import connect_response, decode_request, reply

# RFC 2831 section 4: the IMAP example's challenge, and what the client and
# the server must answer to it.
RFC_CHALLENGE = (b'realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",qop="auth",'
                 b'algorithm=md5-sess,charset=utf-8')
RFC_RESPONSE = b"d388dad90d4bbd760a152321f2143af7"
RFC_RSPAUTH = b"rspauth=ea40f60335c427b5527b84dbabcdfffd"


def rfc_client() -> DigestMD5:
    return DigestMD5("chris", "secret", service="imap", server_name="elwood.innosoft.com",
                     cnonce="OA6MHXh6VqTrRk")


def test_digest_md5_answers_the_rfc_example() -> None:
    mechanism = rfc_client()
    assert mechanism.respond(None) == b""  # (DIGEST-MD5: the server speaks first)
    answer = parse_directives(mechanism.respond(RFC_CHALLENGE) or b"")
    assert answer["response"] == [RFC_RESPONSE]
    assert answer["username"] == [b"chris"] and answer["realm"] == [b"elwood.innosoft.com"]
    assert answer["digest-uri"] == [b"imap/elwood.innosoft.com"]
    assert answer["nc"] == [b"00000001"] and answer["qop"] == [b"auth"]
    assert answer["cnonce"] == [b"OA6MHXh6VqTrRk"] and answer["charset"] == [b"utf-8"]
    assert not mechanism.complete
    assert mechanism.respond(RFC_RSPAUTH) is None
    assert mechanism.complete


def test_digest_md5_refuses_a_server_that_does_not_know_the_password() -> None:
    mechanism = rfc_client()
    mechanism.respond(None)
    mechanism.respond(RFC_CHALLENGE)
    with pytest.raises(SaslError, match="did not prove"):
        mechanism.respond(b"rspauth=00000000000000000000000000000000")
    assert not mechanism.complete


@pytest.mark.parametrize("challenge, fault", [
    (b'realm="r",qop="auth",algorithm=md5-sess', "no nonce"),
    (b'nonce="n",qop="auth-conf",algorithm=md5-sess', "authentication only"),
    (b'nonce="n",qop="auth"', "md5-sess"),
    (b'nonce="n",nonce="m",algorithm=md5-sess', "repeats 'nonce'"),
    (b'nonce="unterminated', "malformed"),
    (b"", "no DIGEST-MD5 challenge"),
])
def test_digest_md5_says_what_is_wrong_with_a_challenge(challenge: bytes, fault: str) -> None:
    mechanism = DigestMD5("u", "p")
    mechanism.respond(None)
    with pytest.raises(SaslError, match=fault):
        mechanism.respond(challenge)


def test_directives_unquote_and_keep_every_realm() -> None:
    found = parse_directives(b' realm="a\\"b", realm="c" ,qop=auth,nonce="x,y"')
    assert found == {"realm": [b'a"b', b"c"], "qop": [b"auth"], "nonce": [b"x,y"]}


def test_digest_md5_sends_names_in_utf_8_and_hashes_latin_1_ones_as_latin_1() -> None:
    def answer(user: str, password: str = "pw") -> Dict[str, List[bytes]]:
        mechanism = DigestMD5(user, password, cnonce="c")
        mechanism.respond(None)
        return parse_directives(mechanism.respond(
            b'nonce="n",qop="auth",algorithm=md5-sess,charset=utf-8') or b"")
    assert answer("j\u00fcrgen")["username"] == ["j\u00fcrgen".encode("utf-8")]
    assert answer("\u7530\u4e2d")["username"] == ["\u7530\u4e2d".encode("utf-8")]
    # The hash takes ISO 8859-1 where it fits (so "jürgen" hashes as b"j\xfcrgen"):
    a1 = hashlib.md5(b"j\xfcrgen::pw").digest() + b":n:c"
    a2 = b"AUTHENTICATE:zookeeper/zk-sasl-md5"
    expected = hashlib.md5(b":".join((hashlib.md5(a1).hexdigest().encode(), b"n", b"00000001",
                                      b"c", b"auth", hashlib.md5(a2).hexdigest().encode())))
    assert answer("j\u00fcrgen")["response"] == [expected.hexdigest().encode()]


@pytest.mark.parametrize("user, password, charset, says", [
    ("bob", "p\u20acss-secret", False, "password has characters outside ISO 8859-1"),
    ("b\udc80b", "pw-secret", True, "user name is not valid Unicode"),
])
def test_digest_md5_text_it_cannot_write_is_a_sasl_error_without_the_value(
        user: str, password: str, charset: bool, says: str) -> None:
    mechanism = DigestMD5(user, password)
    mechanism.respond(None)
    challenge = b'nonce="n",qop="auth",algorithm=md5-sess' + (b",charset=utf-8" if charset
                                                            else b"")
    with pytest.raises(SaslError, match=says) as info:
        mechanism.respond(challenge)
    assert "secret" not in repr(info.value) and info.value.__context__ is None


def test_digest_md5_repr_hides_the_password() -> None:
    assert "hunter2" not in repr(DigestMD5("bob", "hunter2"))


# -- the protocol's SASL phase ------------------------------------------------------

class Scripted:
    """A mechanism that sends the tokens it is given, recording what it heard."""

    name = "TEST"
    who = "user 'scripted'"

    def __init__(self, tokens: List[bytes]) -> None:
        self.tokens = list(tokens)
        self.heard: List[object] = []
        self.complete = False

    def respond(self, challenge: object) -> object:
        self.heard.append(challenge)
        if not self.tokens:
            self.complete = True
            return None
        return self.tokens.pop(0)


def sasl_frame(data: bytes) -> tuple:
    header, offset = decode_request(data)
    return header, js.decode("GetSASLRequest", data, offset)[0]["token"]


def test_the_session_is_connected_only_once_sasl_is_done() -> None:
    made: List[Scripted] = []
    hosts: List[str] = []

    def factory(host: str) -> Scripted:
        hosts.append(host)
        made.append(Scripted([b"first", b"second"]))
        return made[-1]

    p = ClientProtocol(4000, sasl=factory)
    p.auth.append(rq.Auth("digest", b"u:p"))  # (credentials to re-send after SASL)
    p.connect_frame("zk1.example")
    events, frames = p.receive(connect_response())
    assert events == [] and not p.connected and p.authenticating
    assert hosts == ["zk1.example"]
    header, token = sasl_frame(frames[0])
    assert header == {"xid": 1, "type": 102} and token == b"first"
    with pytest.raises(RuntimeError):
        p.send(rq.GetData("/a"))  # (nothing but SASL goes out before it is done)

    events, frames = p.receive(reply(1, 0, 0, js.encode("SetSASLResponse", {"token": b"c1"})))
    assert events == [] and sasl_frame(frames[0]) == ({"xid": 2, "type": 102}, b"second")
    events, frames = p.receive(reply(2, 7, 0, js.encode("SetSASLResponse", {"token": None})))
    assert [type(e) for e in events] == [Connected] and p.connected and not p.authenticating
    assert made[0].heard == [None, b"c1", b""]  # (a null token is heard as empty)
    assert [decode_request(f)[0] for f in frames] == [{"xid": -4, "type": 100}]
    assert p.last_zxid == 7
    assert p.send(rq.GetData("/a"), "a") == b""  # (held behind the credentials, as always)
    events, frames = p.receive(reply(-4))
    assert [decode_request(f)[0] for f in frames] == [{"xid": 3, "type": 4}]

    p.connection_lost()  # every connection authenticates again, with a new mechanism
    p.connect_frame("zk2.example")
    events, frames = p.receive(connect_response())
    assert hosts == ["zk1.example", "zk2.example"] and sasl_frame(frames[0])[1] == b"first"


def test_a_refused_exchange_is_sasl_failed_with_the_servers_code() -> None:
    p = ClientProtocol(4000, sasl=lambda host: Scripted([b"t"]))
    p.connect_frame()
    p.receive(connect_response())
    events, frames = p.receive(reply(1, 0, -115, js.encode("SetSASLResponse", {"token": None})))
    assert frames == [] and len(events) == 1 and isinstance(events[0], SaslFailed)
    assert events[0].err == -115 and "user 'scripted'" in events[0].reason
    assert not p.connected and not p.authenticating


def test_a_mechanism_that_gives_up_is_sasl_failed_without_sending() -> None:
    mechanism = DigestMD5("u", "p")
    p = ClientProtocol(4000, sasl=lambda host: mechanism)
    p.connect_frame()
    p.receive(connect_response())
    events, frames = p.receive(reply(1, 0, 0, js.encode("SetSASLResponse", {"token": b"qop=auth"})))
    assert frames == [] and isinstance(events[0], SaslFailed)
    assert events[0].err == -115 and "no nonce" in events[0].reason


def test_a_ping_refused_by_a_server_requiring_sasl_is_told() -> None:
    p = ClientProtocol(4000)
    p.connect_frame()
    p.receive(connect_response())
    events, _ = p.receive(reply(-2, 0, -124))
    assert events == [SaslFailed(-124, "session closed: SASL authentication is required")]
