"""Locate a Java runtime and a ZooKeeper installation to run servers with.

Three installs are understood, in this order of preference:

- ``ZOOKEEPER_CLASSPATH``: a complete Java classpath, used as given;
- ``ZOOKEEPER_HOME``: an unpacked Apache tarball (``lib/*.jar``, the top-level
  ``zookeeper*.jar`` if any, and ``conf``);
- Debian's ``zookeeper`` package (``/usr/share/java/zookeeper.jar``, whose
  manifest already names its dependencies, plus ``/etc/zookeeper/conf``).
"""

from __future__ import annotations

import glob
import os
import shutil
from typing import List, Mapping, Optional

__all__ = ["ZooKeeperNotInstalled", "find_java", "netty_classpath", "zookeeper_classpath"]

DEBIAN_JAR = "/usr/share/java/zookeeper.jar"
DEBIAN_CONF = "/etc/zookeeper/conf"
SLF4J_SIMPLE = "/usr/share/java/slf4j-simple.jar"
# Netty jars the Netty connection factory (TLS) needs that the Debian
# zookeeper.jar manifest does not name (Debian's libnetty-java has them).
DEBIAN_NETTY_EXTRAS = tuple(f"/usr/share/java/netty-{name}.jar" for name in (
    "codec", "resolver", "transport-native-unix-common"))

# A second SLF4J binding on the classpath would only earn a "multiple
# bindings" warning and possibly win; these name the jars that are bindings.
_SLF4J_BINDING_MARKERS = (
    "slf4j-simple",
    "logback-classic",
    "slf4j-log4j12",
    "slf4j-reload4j",
    "log4j-slf4j",
    "slf4j-jdk14",
    "slf4j-nop",
)

_HOW_TO_INSTALL = (
    "To run real ZooKeeper servers, pykeeper.testing needs Java and ZooKeeper:\n"
    "  - on Debian/Ubuntu: apt-get install zookeeper default-jre-headless\n"
    "    (or run `make zookeeper` in the pykeeper checkout);\n"
    "  - or unpack an Apache ZooKeeper binary tarball and set\n"
    "    ZOOKEEPER_HOME=/path/to/apache-zookeeper-X.Y.Z-bin;\n"
    "  - or set ZOOKEEPER_CLASSPATH to a complete Java classpath holding\n"
    "    zookeeper.jar and its dependencies.\n"
    "Java is looked up as $JAVA_HOME/bin/java, then `java` on PATH."
)


class ZooKeeperNotInstalled(RuntimeError):
    """Java or ZooKeeper is missing; the message says how to install them."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"{problem}\n{_HOW_TO_INSTALL}")
        self.problem = problem


def find_java(environ: Optional[Mapping[str, str]] = None) -> str:
    """Return the path of the ``java`` executable to use.

    Raises ZooKeeperNotInstalled when there is none.
    """
    env = os.environ if environ is None else environ
    java_home = env.get("JAVA_HOME")
    if java_home:
        candidate = os.path.join(java_home, "bin", "java")
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("java", path=env.get("PATH"))
    if found:
        return found
    raise ZooKeeperNotInstalled("No `java` executable found (JAVA_HOME unset or wrong, none on PATH).")


def _has_slf4j_binding(entries: List[str]) -> bool:
    return any(marker in os.path.basename(e) for e in entries for marker in _SLF4J_BINDING_MARKERS)


def zookeeper_classpath(environ: Optional[Mapping[str, str]] = None) -> List[str]:
    """Return the classpath entries that run ``QuorumPeerMain``.

    ``slf4j-simple`` is appended when available and no other SLF4J binding
    is present, because without a binding the server logs nothing at all and a
    failed start would be undiagnosable.

    Raises ZooKeeperNotInstalled when no ZooKeeper jar can be found.
    """
    env = os.environ if environ is None else environ
    explicit = env.get("ZOOKEEPER_CLASSPATH")
    home = env.get("ZOOKEEPER_HOME")
    if explicit:
        entries = [e for e in explicit.split(os.pathsep) if e]
    elif home:
        jars = sorted(glob.glob(os.path.join(home, "*.jar"))) + sorted(glob.glob(os.path.join(home, "lib", "*.jar")))
        if not any(os.path.basename(j).startswith("zookeeper") for j in jars):
            raise ZooKeeperNotInstalled(
                f"ZOOKEEPER_HOME={home!r} holds no zookeeper*.jar (looked in it and in its lib/)."
            )
        entries = [os.path.join(home, "conf")] + jars
    else:
        if not os.path.isfile(DEBIAN_JAR):
            raise ZooKeeperNotInstalled(f"{DEBIAN_JAR} not found and neither ZOOKEEPER_CLASSPATH nor ZOOKEEPER_HOME is set.")
        entries = [DEBIAN_CONF, DEBIAN_JAR]
    if os.path.isfile(SLF4J_SIMPLE) and not _has_slf4j_binding(entries):
        entries.append(SLF4J_SIMPLE)
    return entries


def netty_classpath(entries: List[str]) -> List[str]:
    """Entries to add to `entries` (a ``zookeeper_classpath()``) for the
    Netty connection factory: with Debian's package, the Netty jars its
    manifest leaves out; nothing for other installs, which ship them all."""
    if DEBIAN_JAR not in entries:
        return []
    return [jar for jar in DEBIAN_NETTY_EXTRAS if os.path.isfile(jar) and jar not in entries]
