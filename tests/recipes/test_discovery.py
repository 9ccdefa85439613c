"""ServiceDiscovery against a real server, on both clients, and its JSON
against the bytes Curator's JsonInstanceSerializer writes."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Callable

import pytest

from pykeeper.recipes import HoldEvent, ServiceDiscovery, ServiceInstance, UriPart, UriSpec
from pykeeper.testing import FaultProxy, expire_session, wait_until

from ..support import WAIT, Recorder

# What Curator writes (Jackson's default ObjectMapper: the fields in the Java
# class's declaration order, no spaces, nulls written): the instance of its
# own TestJsonInstanceSerializer.testBasic, in the default compatible mode
# (no "enabled").
CURATOR_BASIC = (
    b'{"name":"name","id":"id","address":"address","port":10,"sslPort":20,'
    b'"payload":"payload","registrationTimeUTC":0,"serviceType":"DYNAMIC",'
    b'"uriSpec":{"parts":[{"value":"a","variable":true},{"value":"/b/","variable":false},'
    b'{"value":"c","variable":true}]}}')
# compatibleSerializationMode=false, enabled false, a Java List payload (its
# @JsonTypeInfo(use=CLASS) type id wraps a list as [class, value]).
CURATOR_NEW_LIST = (
    b'{"name":"name","id":"id","address":"address","port":10,"sslPort":20,'
    b'"payload":["java.util.ArrayList",["Test value 1","Test value 2"]],'
    b'"registrationTimeUTC":0,"serviceType":"DYNAMIC",'
    b'"uriSpec":{"parts":[{"value":"a","variable":true},{"value":"/b/","variable":false},'
    b'{"value":"c","variable":true}]},"enabled":false}')
# A POJO payload carries its class as an "@class" property; nulls and a
# non-ASCII address as Jackson writes them (UTF-8, only controls escaped).
CURATOR_POJO = (
    '{"name":"api","id":"ca2fff8e-d756-480c-b59e-8297ff88624b","address":"h\u00f6st\\t1",'
    '"port":null,"sslPort":8443,'
    '"payload":{"@class":"org.apache.curator.x.discovery.TestJsonInstanceSerializer$Payload",'
    '"val":"test"},"registrationTimeUTC":1325376000000,"serviceType":"PERMANENT",'
    '"uriSpec":null}').encode("utf-8")

# What a Spring Cloud Zookeeper service registers (Curator under it, its
# payload class named by "@class", Curator's default uri spec).
CURATOR_SPRING = (
    b'{"name":"payments","id":"6d4e5121-6c17-4023-8f7b-8922f8b70cae","address":"10.1.2.3",'
    b'"port":8005,"sslPort":null,"payload":{"@class":'
    b'"org.springframework.cloud.zookeeper.discovery.ZookeeperInstance","id":"application-1",'
    b'"name":"payments","metadata":{}},"registrationTimeUTC":1610116500446,'
    b'"serviceType":"DYNAMIC","uriSpec":{"parts":[{"value":"scheme","variable":true},'
    b'{"value":"://","variable":false},{"value":"address","variable":true},'
    b'{"value":":","variable":false},{"value":"port","variable":true}]}}')


def test_json_matches_curator_bytes() -> None:
    spec = UriSpec.parse("{a}/b/{c}")
    basic = ServiceInstance("name", "id", "address", 10, 20, "payload", 0, "DYNAMIC", spec)
    assert basic.to_json() == CURATOR_BASIC
    assert ServiceInstance.from_json(CURATOR_BASIC) == basic
    assert basic.to_json(compatible=False) == CURATOR_BASIC[:-1] + b',"enabled":true}'

    listed = ServiceInstance.from_json(CURATOR_NEW_LIST)
    assert listed.enabled is False
    assert listed.payload == ["java.util.ArrayList", ["Test value 1", "Test value 2"]]
    assert listed.to_json(compatible=False) == CURATOR_NEW_LIST
    assert listed.to_json() == CURATOR_NEW_LIST  # (a disabled instance says so in either mode)

    pojo = ServiceInstance.from_json(CURATOR_POJO)
    assert pojo.payload["@class"].endswith("$Payload")  # kept as parsed: Java reads it back
    assert (pojo.address, pojo.port, pojo.ssl_port, pojo.uri_spec) == ("h\u00f6st\t1", None,
                                                                         8443, None)
    assert pojo.to_json() == CURATOR_POJO

    spring = ServiceInstance.from_json(CURATOR_SPRING)
    assert spring.uri() == "http://10.1.2.3:8005"
    made = ServiceInstance(
        "payments", "6d4e5121-6c17-4023-8f7b-8922f8b70cae", "10.1.2.3", 8005, None,
        {"@class": "org.springframework.cloud.zookeeper.discovery.ZookeeperInstance",
         "id": "application-1", "name": "payments", "metadata": {}}, 1610116500446,
        uri_spec=UriSpec.parse("{scheme}://{address}:{port}"))
    assert made == spring and made.to_json() == CURATOR_SPRING

    # Curator's defaults for what is missing: enabled, a DYNAMIC type.
    empty = ServiceInstance.from_json(b"{}")
    assert (empty.name, empty.enabled, empty.service_type) == ("", True, "DYNAMIC")
    # Jackson's escapes (upper-case hex) and Java's doubles.
    odd = ServiceInstance("n", "i", payload={"s": "\x01\x1f\"\\/\u2028", "f": [1e7, 0.5, 1e-4]})
    assert b'"payload":{"s":"\\u0001\\u001F\\"\\\\/\xe2\x80\xa8","f":[1.0E7,0.5,1.0E-4]}' \
        in odd.to_json()
    assert json.loads(odd.to_json())["payload"] == odd.payload
    for bad in (b"[1]", b"not json", b'{"port":"80"}', b'{"serviceType":"ODD"}'):
        with pytest.raises(ValueError, match="service instance"):
            ServiceInstance.from_json(bad)
    with pytest.raises(TypeError, match="payload"):
        ServiceInstance("n", "i", payload={1: 2}).to_json()


def test_uri_spec_builds_like_curator() -> None:
    spec = UriSpec.parse("{one}two-three-{[}four{]}-five{six}")
    assert spec.parts[:3] == (UriPart("one", True), UriPart("two-three-"), UriPart("[", True))
    assert spec.build(None, {"one": 1, "six": 6}) == "1two-three-{four}-five6"
    assert spec.build(None, {"one": True, "six": 1e7}) == "truetwo-three-{four}-five1.0E7"
    instance = ServiceInstance("foo", "bar", "1.2.3.4", 5, 6, None, 789, "PERMANENT",
                               UriSpec.parse("{scheme}://{address}:{port}:{ssl-port}/{name}/"
                                             "{id}/{registration-time-utc}/{service-type}"))
    assert instance.build_uri_spec({"scheme": "test"}) == \
        "test://1.2.3.4:5:6/foo/bar/789/permanent"
    plain = ServiceInstance("foo", "x", port=5, uri_spec=UriSpec.parse("{scheme}://foo.com"))
    assert plain.uri() == "http://foo.com"
    assert dataclasses.replace(plain, ssl_port=5).uri() == "https://foo.com"
    assert ServiceInstance("foo", "x").uri() == ""
    for bad in ("{a{b}}", "a}", "{open"):
        with pytest.raises(ValueError, match="uri spec"):
            UriSpec.parse(bad)


def test_register_list_update_unregister(
        make_any_client: Callable[..., Any], make_client: Callable[..., Any],
        recipe: Callable[..., Any], path: str) -> None:
    client = make_any_client()
    admin = make_client()
    discovery = recipe(client, "ServiceDiscovery", path)
    assert discovery.names() == [] and discovery.instances("api") == []
    one = discovery.register("api", "10.0.0.1", 8080, payload={"zone": "a"}, id="one",
                             uri_spec="{scheme}://{address}:{port}/v1")
    two = discovery.register("api", "10.0.0.2", None, ssl_port=8443)
    discovery.register("db", "10.0.0.3", 5432, service_type="STATIC", id="db-1")
    assert discovery.names() == ["api", "db"]
    assert {i.id for i in discovery.instances("api")} == {"one", two.id}
    data, stat = admin.get(f"{path}/api/one")
    assert data == one.to_json() and stat.ephemeralOwner == client.session_id
    assert admin.exists(f"{path}/db/db-1").ephemeralOwner == 0  # (STATIC: persistent)
    assert discovery.instance("api", "one") == one
    assert one.uri() == "http://10.0.0.1:8080/v1"
    assert discovery.instance("api", "nobody") is None
    with pytest.raises(ValueError, match="registered already"):
        discovery.register("api", "10.0.0.9", 1, id="one")

    moved = dataclasses.replace(one, address="10.0.0.9")
    discovery.update(moved)
    assert discovery.instance("api", "one") == moved
    with pytest.raises(ValueError, match="keeps both"):
        discovery.update(dataclasses.replace(one, name="other"))
    with pytest.raises(ValueError, match="not registered"):
        discovery.update(dataclasses.replace(one, id="stranger"))
    assert {i.id for i in discovery.registered()} == {"one", two.id, "db-1"}

    assert discovery.unregister(moved) is True
    assert discovery.unregister("one") is False
    assert admin.exists(f"{path}/api/one") is None
    admin.create(f"{path}/api/junk", b"not an instance")
    assert [i.id for i in discovery.instances("api")] == [two.id]
    with pytest.raises(ValueError, match="junk"):
        discovery.instance("api", "junk")
    discovery.close()


def test_registration_made_again_after_expiry_and_admin_delete(
        zk_server: Any, make_any_client: Callable[..., Any], make_client: Callable[..., Any],
        recipe: Callable[..., Any], path: str) -> None:
    client = make_any_client()
    admin = make_client()
    discovery = recipe(client, "ServiceDiscovery", path)
    heard = Recorder()
    discovery.add_listener(heard)
    me = discovery.register("api", "10.0.0.1", 8080, id="me")
    node = f"{path}/api/me"

    def owned_by_client() -> bool:
        stat = admin.exists(node)
        return stat is not None and stat.ephemeralOwner == client.session_id

    old_session = client.session_id
    expire_session(client, zk_server.hosts)
    wait_until(lambda: client.session_id != old_session and owned_by_client(), WAIT)
    assert heard.wait_until(lambda calls: HoldEvent.LOST in calls)
    wait_until(lambda: discovery.holding, WAIT)  # (held again, in the new session)
    assert admin.get(node)[0] == me.to_json()

    admin.delete(node)  # an admin deletes it: it comes back
    wait_until(owned_by_client, WAIT)
    assert discovery.instances("api") == [me]
    discovery.close()
    assert admin.exists(node) is None
    assert not discovery.holding


def test_a_lost_connection_suspends_and_the_watch_catches_up(
        zk_proxy: FaultProxy, make_any_client: Callable[..., Any],
        make_client: Callable[..., Any], recipe: Callable[..., Any], path: str) -> None:
    client = make_any_client(zk_proxy.hosts, session_timeout=10.0)
    discovery = recipe(client, "ServiceDiscovery", path)
    registrar = ServiceDiscovery(make_client(), path)
    heard = Recorder()
    discovery.add_listener(heard)
    me = discovery.register("api", "10.0.0.1", 1, id="me")
    seen = Recorder()
    watch = discovery.watch("api", seen)
    assert watch.instances == [me]
    zk_proxy.refuse()
    assert heard.wait_until(lambda calls: calls == [HoldEvent.SUSPENDED])
    other = registrar.register("api", "10.0.0.2", 2, id="other")  # (while it cannot see)
    zk_proxy.heal()
    assert heard.wait_until(lambda calls: calls == [HoldEvent.SUSPENDED,
                                                    HoldEvent.RECONNECTED])
    assert seen.wait_until(lambda calls: bool(calls) and calls[-1] == [me, other])
    assert discovery.holding
    registrar.close()
    discovery.close()


def test_watch_sees_join_update_and_leave(
        make_any_client: Callable[..., Any], make_client: Callable[..., Any],
        recipe: Callable[..., Any], path: str) -> None:
    client = make_any_client()
    other = make_client()
    discovery = recipe(client, "ServiceDiscovery", path)
    registrar = ServiceDiscovery(other, path)
    seen = Recorder()
    watch = discovery.watch("api", seen)  # (before the service has a node)
    assert watch.instances == []

    def saw(predicate: Callable[[Any], bool]) -> bool:
        return seen.wait_until(lambda calls: bool(calls) and predicate(calls[-1]))

    first = registrar.register("api", "10.0.0.1", 1, id="a")
    assert saw(lambda instances: instances == [first])
    second = registrar.register("api", "10.0.0.2", 2, id="b")
    assert saw(lambda instances: instances == [first, second])
    changed = dataclasses.replace(second, payload={"weight": 2})
    registrar.update(changed)
    assert saw(lambda instances: instances == [first, changed])
    registrar.unregister(first)
    assert saw(lambda instances: instances == [changed])
    assert watch.instances == [changed]

    watch.stop()
    calls = len(seen)
    later = Recorder()
    discovery.watch("api", later)
    registrar.register("api", "10.0.0.3", 3, id="c")
    assert later.wait_until(lambda c: bool(c) and len(c[-1]) == 2)
    assert len(seen) == calls and watch.stopped
    registrar.close()
    assert later.wait_until(lambda c: c[-1] == [])
    discovery.close()


def test_close_unregisters_every_type(
        make_any_client: Callable[..., Any], make_client: Callable[..., Any],
        recipe: Callable[..., Any], path: str) -> None:
    client = make_any_client()
    admin = make_client()
    discovery = recipe(client, "ServiceDiscovery", path)
    for kind in ("DYNAMIC", "STATIC", "PERMANENT", "DYNAMIC_SEQUENTIAL"):
        discovery.register("svc", "10.0.0.1", 80, id=kind.lower(), service_type=kind)
    children = sorted(admin.get_children(f"{path}/svc"))
    # (the sequential node's name is protected against a lost reply: _c_<guid>-<id><n>)
    assert children[1:] == ["dynamic", "permanent", "static"]
    assert children[0].startswith("_c_") and children[0].endswith("-dynamic_sequential0000000003")
    assert admin.exists(f"{path}/svc/permanent").ephemeralOwner == 0
    watch = discovery.watch("svc", Recorder())
    assert len(watch.instances) == 4
    discovery.close()
    assert admin.get_children(f"{path}/svc") == []
    assert watch.stopped and discovery.closed
    discovery.close()  # (twice: nothing more)
    with pytest.raises(RuntimeError, match="closed"):
        discovery.register("svc", "10.0.0.1", 80)


def test_bad_input_raises_before_anything_is_sent(
        make_any_client: Callable[..., Any], recipe: Callable[..., Any], path: str) -> None:
    client = make_any_client()
    discovery = recipe(client, "ServiceDiscovery", path)
    # A closed client: anything sent would raise ClientClosedException instead.
    if hasattr(client, "aio"):
        client._run(client.aio.close())  # (the facade's own close would stop its loop)
    else:
        client.close()
    bad = [
        (TypeError, "name", dict(name=5)),
        (ValueError, "node name", dict(name="a/b")),
        (ValueError, "node name", dict(name="")),
        (ValueError, "node name", dict(id="..")),
        (TypeError, "port", dict(port="80")),
        (TypeError, "port", dict(port=True)),
        (ValueError, "0..65535", dict(port=65536)),
        (ValueError, "0..65535", dict(ssl_port=-1)),
        (TypeError, "address", dict(address=None)),
        (ValueError, "service_type", dict(service_type="dynamic")),
        (ValueError, "uri spec", dict(uri_spec="{open")),
        (TypeError, "payload", dict(payload=object())),
        (ValueError, "NaN", dict(payload=float("nan"))),
    ]
    for error, match, change in bad:
        arguments = dict(name="api", address="10.0.0.1", port=80)
        arguments.update(change)
        with pytest.raises(error, match=match):
            discovery.register(**arguments)
    with pytest.raises(TypeError, match="ServiceInstance"):
        discovery.update("api")
    with pytest.raises(ValueError, match="node name"):
        discovery.instances("a/b")
    with pytest.raises(TypeError, match="listener"):
        discovery.watch("api", "not callable")
    with pytest.raises(ValueError, match="absolute"):
        recipe(client, "ServiceDiscovery", "relative")


def test_an_id_held_by_another_session_is_made_once_that_node_goes(
        make_any_client: Callable[..., Any], make_client: Callable[..., Any],
        recipe: Callable[..., Any], path: str) -> None:
    client = make_any_client()
    admin = make_client()
    old = ServiceDiscovery(make_client(), path)  # (a restarted process's old session)
    old.register("api", "10.0.0.1", 1, id="me")
    new = recipe(client, "ServiceDiscovery", path)
    mine = new.register("api", "10.0.0.2", 2, id="me")  # returns; the old node stays
    assert admin.get(f"{path}/api/me")[0] != mine.to_json() and not new.holding
    old.close()
    wait_until(lambda: admin.exists(f"{path}/api/me") is not None
               and admin.get(f"{path}/api/me")[0] == mine.to_json(), WAIT)
    wait_until(lambda: new.holding, WAIT)
    new.close()
    assert admin.exists(f"{path}/api/me") is None
