"""A program in the style of zkpython, the official C binding: it would
have run on the binding as it is, but for its import line. It keeps a
configuration node, watches it (re-arming the watch from the watcher,
with an asynchronous get, as C binding programs had to), changes it twice
and lists the root's children asynchronously.

    python example/zkpython_config.py 127.0.0.1:2181
"""

import os
import sys
import threading

from pykeeper import zookeeper  # on the C binding this line was: import zookeeper

ZOO_OPEN_ACL_UNSAFE = {"perms": zookeeper.PERM_ALL, "scheme": "world", "id": "anyone"}


def main(hosts):
    cv = threading.Condition()
    seen = {"connected": False, "values": [], "children": None}

    def session_watcher(handle, type, state, path):
        cv.acquire()
        if type == zookeeper.SESSION_EVENT and state == zookeeper.CONNECTED_STATE:
            seen["connected"] = True
        cv.notify_all()
        cv.release()

    def on_data(handle, rc, value, stat):
        cv.acquire()
        if rc == zookeeper.OK:
            seen["values"].append((value, stat["version"]))
        cv.notify_all()
        cv.release()

    def config_watcher(handle, type, state, path):
        if type == zookeeper.CHANGED_EVENT:
            zookeeper.aget(handle, path, config_watcher, on_data)

    handle = zookeeper.init(hosts, session_watcher, 10000)
    cv.acquire()
    while not seen["connected"]:
        cv.wait(15.0)
    cv.release()
    print("connected: session 0x%x" % zookeeper.client_id(handle)[0])

    path = "/zkpython-example-%d" % os.getpid()
    zookeeper.create(handle, path, "colour=red", [ZOO_OPEN_ACL_UNSAFE], zookeeper.EPHEMERAL)
    value, stat = zookeeper.get(handle, path, config_watcher)
    print("read %s = %r (version %d)" % (path, value, stat["version"]))

    for version, value in enumerate(["colour=green", "colour=blue"]):
        zookeeper.set(handle, path, value, version)
        cv.acquire()
        while len(seen["values"]) <= version:
            cv.wait(15.0)
        cv.release()
        print("watcher saw %r (version %d)" % seen["values"][version])

    def on_children(handle, rc, children):
        cv.acquire()
        seen["children"] = (rc, children)
        cv.notify_all()
        cv.release()

    zookeeper.aget_children(handle, "/", None, on_children)
    cv.acquire()
    while seen["children"] is None:
        cv.wait(15.0)
    cv.release()
    rc, children = seen["children"]
    print("%s: %s is among the root's children: %s" % (
        zookeeper.zerror(rc), path[1:], path[1:] in children))

    try:
        zookeeper.create(handle, path, "again", [ZOO_OPEN_ACL_UNSAFE], zookeeper.EPHEMERAL)
    except zookeeper.NodeExistsException as exc:
        print("creating it again: NodeExistsException (%s)" % exc)
    zookeeper.close(handle)
    print("closed; the ephemeral node went with the session")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:2181")
