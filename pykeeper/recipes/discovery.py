"""`ServiceDiscovery`: register service instances, find them, watch them.

    discovery = client.ServiceDiscovery("/services")
    me = discovery.register("api", "10.0.0.3", 8080, payload={"zone": "a"},
                            uri_spec="{scheme}://{address}:{port}/v1")
    discovery.instances("api")        # [ServiceInstance(name='api', ...), ...]
    watch = discovery.watch("api", lambda instances: print(len(instances)))
    watch.stop()
    discovery.close()                 # unregisters what it registered

Curator's x-discovery: an instance is the node `<base>/<name>/<id>` holding
its JSON (pykeeper.recipes.discovery_format, byte-compatible with Curator's
JsonInstanceSerializer), so Java and Python services share a registry. A
DYNAMIC instance is an ephemeral node kept by a PersistentEphemeralNode:
made again after a session expiry or an admin's delete, until unregistered
or closed (DYNAMIC_SEQUENTIAL: an ephemeral sequential node, `<id><number>`,
as Curator). STATIC and PERMANENT instances are persistent nodes: they
outlive the session and the process (Curator's REST server purges STATIC
ones after a time, never PERMANENT ones); close() deletes them too, as
Curator's does. The ephemeral registrations are a hold: listeners hear
"suspended", "reconnected" and "lost" (until each is made again).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any, Callable, Dict, List, Optional, Union

from ..core import operations as ops
from ..core.paths import validate_path
from ..core.steps import Call, Callback, Detach, Helper, HelperClient, Relay, Signal, WaitForEvent
from ..protocol.errors import NodeExistsException, NoNodeException, ZooKeeperException
from .base import Recipe, children_of, create_under, delete_if_made
from .discovery_format import SERVICE_TYPES, ServiceInstance, UriSpec
from .ephemeral import PersistentEphemeralNodeBase

log = logging.getLogger("pykeeper")

__all__ = ["ServiceDiscoveryBase", "ServiceDiscovery", "ServiceWatch"]

Listener = Callable[[List[ServiceInstance]], Any]


def _node_name(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {value!r}")
    if not value or "/" in value or value in (".", ".."):
        raise ValueError(f"{what} must be a node name (no '/', not empty, not . or ..), "
                         f"not {value!r}")
    return value


def _port(value: Any, what: str) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int or None, not {value!r}")
    if not 0 <= value <= 65535:
        raise ValueError(f"{what} must be 0..65535, not {value}")
    return value


def _checked(instance: Any) -> ServiceInstance:
    """`instance` if it may be registered (what register() checks), with its JSON."""
    if not isinstance(instance, ServiceInstance):
        raise TypeError(f"expected a ServiceInstance, not {instance!r}")
    _node_name(instance.name, "name")
    _node_name(instance.id, "id")
    _port(instance.port, "port")
    _port(instance.ssl_port, "ssl_port")
    if instance.service_type not in SERVICE_TYPES:
        raise ValueError(f"service_type must be one of {', '.join(SERVICE_TYPES)}, "
                         f"not {instance.service_type!r}")
    instance.to_json()  # (raises for a payload that is not JSON)
    return instance


class ServiceWatch:
    """A watched view of one service's instances, from ServiceDiscovery.watch:
    `instances` is the latest list; the listener is called with each new
    one. Thread-safe; stop() ends it."""

    def __init__(self, name: str, path: str, listener: Listener) -> None:
        self.name = name
        self.path = path
        self.listener = listener
        self.instances: List[ServiceInstance] = []
        self._signal = Signal()  # fired by the watches, the client's state, stop()
        self._relay = Relay(self._signal.fire)  # what the client's watch table holds
        self._known: Dict[str, Any] = {}  # node name -> (mzxid, instance or None)
        self._stopped = False

    def __repr__(self) -> str:
        return f"<ServiceWatch {self.path!r}{' stopped' if self._stopped else ''}>"

    @property
    def stopped(self) -> bool:
        """True once stopped (by stop(), the discovery's close or the client's)."""
        return self._stopped

    def stop(self) -> None:
        """Stop watching: the listener is not called again. Never blocks (no
        round trip: the watches left on the server fire into nothing)."""
        self._stopped = True
        self._relay.release()
        self._signal.fire()


class _Entry:
    """One instance this discovery registered, and its keeper if ephemeral."""

    def __init__(self, instance: ServiceInstance, node: Optional["_Registration"]) -> None:
        self.instance = instance
        self.node = node


class _Registration(PersistentEphemeralNodeBase):
    """A dynamic instance's node; each time it is made, the discovery holds again."""

    def __init__(self, discovery: "ServiceDiscoveryBase", path: str, data: bytes,
                 sequential: bool) -> None:
        super().__init__(discovery.client, path, data, sequential)
        self.discovery = discovery

    def _take_hold(self) -> None:
        super()._take_hold()
        self.discovery._take_hold()


class ServiceDiscoveryBase(Recipe):
    """What both ServiceDiscovery fronts share."""

    def __init__(self, client: HelperClient, base_path: str) -> None:
        super().__init__(client, base_path)
        self._entries: Dict[str, _Entry] = {}
        self._watches: List[ServiceWatch] = []
        self._lock = threading.Lock()
        self._closed = False

    @property
    def closed(self) -> bool:
        """True once close() was called."""
        return self._closed

    def _on_state(self, state: Any) -> None:
        super()._on_state(state)
        for watch in list(self._watches):
            watch._signal.fire()  # (re-read after a reconnect; end at a close)

    def _service_path(self, name: Any) -> str:
        path = f"{self.path.rstrip('/')}/{_node_name(name, 'name')}"
        validate_path(path, "the service's node (from the name)")
        return path

    def _new_instance(self, name: Any, address: Any, port: Any, payload: Any, id: Any,
                      ssl_port: Any, service_type: Any, uri_spec: Any) -> ServiceInstance:
        """The instance register() makes (checked: TypeError/ValueError before anything is sent)."""
        if self._closed:
            raise RuntimeError(f"{self!r} is closed")
        if isinstance(uri_spec, str):
            uri_spec = UriSpec.parse(uri_spec)
        if not isinstance(address, str):
            raise TypeError(f"address must be a str, not {address!r}")
        instance = ServiceInstance(
            name=_node_name(name, "name"), id=str(uuid.uuid4()) if id is None else id,
            address=address, port=_port(port, "port"), ssl_port=_port(ssl_port, "ssl_port"),
            payload=payload, registration_time_utc=int(time.time() * 1000),
            service_type=service_type, uri_spec=uri_spec)
        _checked(instance)
        validate_path(f"{self._service_path(name)}/{instance.id}", "the instance's node")
        return instance

    def _take_hold(self) -> None:
        if not self._closed:
            super()._take_hold()

    # -- registering ---------------------------------------------------------------------

    def _register(self, instance: ServiceInstance) -> "Helper[None]":
        path = f"{self._service_path(instance.name)}/{instance.id}"
        data = instance.to_json()
        dynamic = instance.service_type in ("DYNAMIC", "DYNAMIC_SEQUENTIAL")
        node = _Registration(self, path, data, instance.service_type == "DYNAMIC_SEQUENTIAL") \
            if dynamic else None
        entry = _Entry(instance, node)
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self!r} is closed")
            if instance.id in self._entries:
                raise ValueError(f"{instance.id!r} is registered already: update() it")
            self._entries[instance.id] = entry
        self._track()  # (before the node's: its "lost" is told before it is made again)
        try:
            if node is not None:
                yield from node._start()  # (made here; kept in the background from its Detach)
            else:
                yield from self._put(path, data)
                yield Detach()
        except BaseException:
            with self._lock:
                if self._entries.get(instance.id) is entry:
                    del self._entries[instance.id]
            raise

    def _put(self, path: str, data: bytes) -> "Helper[None]":
        """A persistent instance's node made, or its data replaced."""
        parent, _, name = path.rpartition("/")
        before = self.client.last_zxid
        try:
            yield from create_under(parent, name, data, 0)
        except NodeExistsException:
            yield Call(ops.set_data, path, data, -1, retry=True)
        except (Exception, GeneratorExit):
            raise
        except BaseException:
            # (Cancelled with the create in flight: a node it made is taken back.)
            yield from delete_if_made(path, before)
            raise

    def _update(self, instance: ServiceInstance) -> "Helper[None]":
        _checked(instance)
        entry = self._entries.get(instance.id)
        if entry is None:
            raise ValueError(f"{instance.id!r} was not registered by this discovery")
        if (instance.name, instance.service_type) != (entry.instance.name,
                                                      entry.instance.service_type):
            raise ValueError(f"{instance.id!r} is registered as {entry.instance.name!r} "
                             f"({entry.instance.service_type}): an update keeps both")
        data = instance.to_json()
        entry.instance = instance
        if entry.node is not None:
            yield from entry.node._set_data(data)
        else:
            yield from self._put(f"{self._service_path(instance.name)}/{instance.id}", data)

    def _unregister(self, instance_or_id: Union[ServiceInstance, str]) -> "Helper[bool]":
        key = instance_or_id.id if isinstance(instance_or_id, ServiceInstance) \
            else _node_name(instance_or_id, "id")
        with self._lock:
            entry = self._entries.pop(key, None)
            left = any(e.node is not None for e in self._entries.values())
        if entry is None:
            return False
        if not left:
            self._drop_hold()
        if entry.node is not None:
            yield from entry.node._close()
        else:
            try:
                yield Call(ops.delete, f"{self._service_path(entry.instance.name)}/{key}",
                           retry=True)
            except NoNodeException:
                pass
        return True

    def registered(self) -> List[ServiceInstance]:
        """The instances this discovery registered, as last registered or
        updated (from memory: never blocks, on either client)."""
        with self._lock:
            return [entry.instance for entry in self._entries.values()]

    # -- finding ---------------------------------------------------------------------------

    def _names(self) -> "Helper[List[str]]":
        return sorted((yield from children_of(self.path)))

    def _instance(self, name: str, id: str) -> "Helper[Optional[ServiceInstance]]":
        path = f"{self._service_path(name)}/{_node_name(id, 'id')}"
        try:
            data, _ = yield Call(ops.get, path, retry=True)
        except NoNodeException:
            return None
        try:
            return ServiceInstance.from_json(data)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None

    def _instances(self, name: str) -> "Helper[List[ServiceInstance]]":
        path = self._service_path(name)
        found = []
        for child in sorted((yield from children_of(path))):
            try:
                data, _ = yield Call(ops.get, f"{path}/{child}", retry=True)
                found.append(ServiceInstance.from_json(data))
            except NoNodeException:
                pass  # (unregistered meanwhile)
            except ValueError:
                log.debug("%s/%s is not a service instance: left out", path, child)
        return found

    # -- watching --------------------------------------------------------------------------

    def _new_watch(self, name: Any, listener: Any) -> ServiceWatch:
        """The watch watch() starts (checked before anything is sent)."""
        if self._closed:
            raise RuntimeError(f"{self!r} is closed")
        if not callable(listener):
            raise TypeError(f"listener must be callable, not {listener!r}")
        return ServiceWatch(name, self._service_path(name), listener)

    def _refresh(self, watch: ServiceWatch, retry: bool) -> "Helper[bool]":
        """Re-read the service's children (watched) and each instance whose
        node changed (an exists watch on each); True if the list changed."""
        while True:
            try:
                children = yield Call(ops.get_children, watch.path, watch._relay, retry=retry)
                break
            except NoNodeException:
                # (no service node: a watch for its creation, no write from a watcher)
                if (yield Call(ops.exists, watch.path, watch._relay, retry=retry)) is None:
                    children = []
                    break
        known: Dict[str, Any] = {}
        for child in sorted(children):
            path = f"{watch.path}/{child}"
            stat = yield Call(ops.exists, path, watch._relay, retry=retry)
            if stat is None:
                continue
            old = watch._known.get(child)
            if old is not None and old[0] == stat.mzxid:
                known[child] = old
                continue
            try:
                data, stat = yield Call(ops.get, path, retry=retry)
            except NoNodeException:
                continue
            try:
                known[child] = (stat.mzxid, ServiceInstance.from_json(data))
            except ValueError:
                known[child] = (stat.mzxid, None)  # (not an instance: left out)
        watch._known = known
        instances = [instance for _, instance in known.values() if instance is not None]
        changed = instances != watch.instances
        watch.instances = instances
        return bool(changed)

    def _watch(self, watch: ServiceWatch) -> "Helper[None]":
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self!r} is closed")
            self._watches.append(watch)
        self._track()
        generation = watch._signal.generation
        try:
            yield from self._refresh(watch, retry=True)
        except BaseException:
            self._forget(watch)
            raise
        yield Detach()
        while True:
            yield WaitForEvent(watch._signal, None, after=generation)
            generation = watch._signal.generation
            if watch.stopped or self.client.state == "closed":
                break
            if not self.client.connected:
                continue  # (the state change that brings it back wakes us)
            try:
                changed = yield from self._refresh(watch, retry=False)
            except ZooKeeperException:
                continue  # (the connection went: its state change wakes us)
            if changed and not watch.stopped:
                try:
                    yield Callback(watch.listener, list(watch.instances))
                except Exception:
                    log.exception("%r: listener %r failed", watch, watch.listener)
        watch.stop()
        self._forget(watch)

    def _forget(self, watch: ServiceWatch) -> None:
        with self._lock:
            if watch in self._watches:
                self._watches.remove(watch)

    # -- closing ---------------------------------------------------------------------------

    def _close(self) -> "Helper[None]":
        with self._lock:
            self._closed = True
            watches, ids = list(self._watches), list(self._entries)
        for watch in watches:
            watch.stop()
        failed: List[ZooKeeperException] = []
        for key in ids:
            try:
                yield from self._unregister(key)
            except ZooKeeperException as exc:
                failed.append(exc)  # (unregister the rest, then say so)
        self._drop_hold()
        self._untrack()
        if failed:
            raise failed[0]


class ServiceDiscovery(ServiceDiscoveryBase):
    """Service registration and discovery under `base_path`. See the module
    docstring. Thread-safe; each call is one or a few round trips (listing:
    one per instance), retried across connection losses."""

    def register(
            self, name: str, address: str, port: Optional[int], payload: Any = None,
            id: Optional[str] = None, ssl_port: Optional[int] = None,
            service_type: str = "DYNAMIC", uri_spec: Union[str, UriSpec, None] = None,
    ) -> ServiceInstance:
        """Register an instance of service `name` (id: a new uuid4 if None;
        payload: any JSON value; uri_spec: "{scheme}://{address}:{port}" or
        a UriSpec) and keep it registered until unregistered or closed;
        returns it once its node is made. TypeError/ValueError for bad input
        (before anything is sent), ValueError for an id registered already.
        A node of another session at its path (a restart's old session) is
        waited out in the background."""
        instance = self._new_instance(name, address, port, payload, id, ssl_port,
                                      service_type, uri_spec)
        self._start_sync(self._register(instance))
        return instance

    def update(self, instance: ServiceInstance) -> None:
        """Replace a registered instance's data (same id, name and type; e.g.
        `dataclasses.replace(instance, payload=...)`). ValueError if this
        discovery did not register its id. One round trip."""
        self._run_sync(self._update(instance))

    def unregister(self, instance_or_id: Union[ServiceInstance, str]) -> bool:
        """Delete the instance's node and stop keeping it: True if this
        discovery had registered it, False if not. One round trip."""
        return self._run_sync(self._unregister(instance_or_id))

    def names(self) -> List[str]:
        """The names of the services under the base path (sorted). One round trip."""
        return self._run_sync(self._names())

    def instances(self, name: str) -> List[ServiceInstance]:
        """The instances of service `name` (by node name; nodes that are not
        instances are left out); [] if there is none."""
        return self._run_sync(self._instances(name))

    def instance(self, name: str, id: str) -> Optional[ServiceInstance]:
        """The instance `id` of service `name`, or None. ValueError if its
        node holds no instance. One round trip."""
        return self._run_sync(self._instance(name, id))

    def watch(
            self, name: str, listener: Callable[[List[ServiceInstance]], Any],
    ) -> ServiceWatch:
        """Watch service `name`: returns a ServiceWatch once its instances
        are read (`.instances`); `listener(instances)` is then called (on
        the client's event thread or loop) with each new list, when an
        instance joins, leaves or is updated, until `.stop()`, close() or
        the client's close. A service with no node yet is watched for it."""
        watch = self._new_watch(name, listener)
        self._start_sync(self._watch(watch))
        return watch

    def close(self) -> None:
        """Stop the watches and unregister every instance registered here
        (deleting their nodes, persistent ones too); the first error of a
        delete is raised after trying them all. Closing twice is one close."""
        self._run_sync(self._close())
