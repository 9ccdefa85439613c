"""Run one real ZooKeeper server (standalone, or a member of an ensemble)."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import socket
import subprocess
import time
from typing import TYPE_CHECKING, Dict, Mapping, Optional, Sequence

from ..core import fourletter
from ..drivers import fourletter_io
from . import _process
from ._install import find_java, netty_classpath, zookeeper_classpath
from ._ports import free_port
from .certs import DEFAULT_SERVER_NAMES, Certificates, make_certificates

if TYPE_CHECKING:
    from .kerberos import KerberosRealm

__all__ = ["ZooKeeperServer", "ServerStartError", "four_letter"]

log = logging.getLogger("pykeeper.testing")

MAIN_CLASS = "org.apache.zookeeper.server.quorum.QuorumPeerMain"
NETTY_FACTORY = "org.apache.zookeeper.server.NettyServerCnxnFactory"
CLIENT_AUTH_MODES = ("none", "want", "need")

JVM_OPTIONS = (
    "-Xmx256m",
    "-XX:+UseSerialGC",
    # C1 only: the server starts in ~0.3 s instead of ~0.5 s and tests never
    # run it long enough for C2 to pay off.
    "-XX:TieredStopAtLevel=1",
    # No /tmp/hsperfdata_<user>/<pid> file, which SIGKILL would leave behind.
    "-XX:-UsePerfData",
    # TTL nodes (and container-node tests that need them) are refused otherwise.
    "-Dzookeeper.extendedTypesEnabled=true",
    "-Dzookeeper.admin.enableServer=false",
    "-Dorg.slf4j.simpleLogger.showDateTime=true",
    "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
)

# Time allowed for one `srvr` probe while waiting for a start: a connection
# made in the first ~0.1 s after the port opens can hang until this expires.
_PROBE_TIMEOUT = 0.15
_PROBE_INTERVAL = 0.05
_LOG_TAIL_BYTES = 6000


SASL_PROVIDER = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"
DIGEST_LOGIN_MODULE = "org.apache.zookeeper.server.auth.DigestLoginModule"
KRB5_LOGIN_MODULE = "com.sun.security.auth.module.Krb5LoginModule"
KERBEROS_SERVICE = "zookeeper/localhost"


def _check_sasl_users(users: Optional[Mapping[str, str]]) -> Dict[str, str]:
    """The users, checked for what a JAAS file can hold."""
    checked: Dict[str, str] = {}
    for user, password in (users or {}).items():
        if not isinstance(user, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", user):
            raise ValueError(f"sasl_users: user {user!r} must be letters, digits, '_', '.', '-'")
        if not isinstance(password, str) or not password or '"' in password \
                or "\\" in password or "\n" in password:
            raise ValueError(f"sasl_users: the password of {user!r} must be a non-empty str "
                             f"without quotes, backslashes or newlines")
        checked[user] = password
    return checked


class ServerStartError(RuntimeError):
    """A server process exited, or did not serve in time; ``log_tail`` holds its last output."""

    def __init__(self, message: str, log_tail: str = "") -> None:
        text = message
        if log_tail:
            text += "\n--- last lines of the server log ---\n" + log_tail
        super().__init__(text)
        self.log_tail = log_tail


def four_letter(host: str, port: int, word: str, timeout: float = 1.0) -> str:
    """Send a four-letter command and return the whole reply as text.

    ``timeout`` bounds the whole exchange. Raises OSError (ConnectionRefusedError,
    socket.timeout, ...) when the server cannot be reached or does not finish
    replying in time.
    """
    return fourletter_io.ask(host, port, word, timeout)


parse_mode = fourletter.parse_mode


def _format_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class ZooKeeperServer:
    """A real ZooKeeper server process on 127.0.0.1 with its own temporary data directory.

    ``extra_config`` entries are added to (or, with value None, removed from)
    the generated zoo.cfg; ``java_options`` are appended to the JVM flags, so
    they win over the defaults. ``port`` and ``data_dir`` are chosen and
    created when not given; a given ``data_dir`` belongs to the caller and
    is not removed by ``close()``. ``server_id`` writes a ``myid`` file, as
    ensemble members need.

    With ``tls``, certificates are made in ``data_dir/tls`` (a CA, a server
    certificate for ``tls_server_names``, by default 127.0.0.1, ::1 and
    localhost, and a client certificate; see
    ``pykeeper.testing.certs``) and the server also listens for TLS on
    ``tls_port`` (Netty connection factory; the plain ``port`` stays open).
    ``client_auth`` says whether it asks TLS clients for a certificate
    signed by its CA: "need" (ZooKeeper's default: refused without one),
    "want" (checked if given) or "none". With ``super_password``, the
    digest user ``super`` may do anything (``super_credentials`` is what
    to pass to ``add_auth("digest", ...)``).

    ``sasl_users`` ({user: password}) makes the server take SASL DIGEST-MD5
    logins of those users (a JAAS ``DigestLoginModule`` configuration,
    ``sasl_options(user)`` gives the client's options), with ``sasl:`` ACLs;
    ``kerberos`` (a ``pykeeper.testing.KerberosRealm``) makes it take
    SASL GSSAPI logins instead, as ``zookeeper/localhost`` of that realm:
    clients connect to ``localhost:PORT`` (``kerberos_hosts``). With either,
    ``require_sasl`` makes it close every session that has not
    authenticated with SASL (``sessionRequireClientSASLAuth``).
    ``keep_config`` writes zoo.cfg at the first start only (members of a
    reconfigurable ensemble rewrite their own).

    Raises ZooKeeperNotInstalled when Java or ZooKeeper cannot be found,
    OpenSSLNotInstalled for ``tls`` without the openssl command,
    ValueError for ``clientPort``/``dataDir`` in ``extra_config``.
    """

    def __init__(
        self,
        tick_time: int = 200,
        extra_config: Optional[Mapping[str, object]] = None,
        java_options: Sequence[str] = (),
        *,
        port: Optional[int] = None,
        data_dir: Optional[str] = None,
        server_id: Optional[int] = None,
        min_session_timeout: int = 400,
        max_session_timeout: int = 30000,
        start_timeout: float = 30.0,
        java: Optional[str] = None,
        classpath: Optional[Sequence[str]] = None,
        tls: bool = False,
        tls_port: Optional[int] = None,
        client_auth: str = "need",
        super_password: Optional[str] = None,
        tls_server_names: Sequence[str] = DEFAULT_SERVER_NAMES,
        sasl_users: Optional[Mapping[str, str]] = None,
        kerberos: Optional["KerberosRealm"] = None,
        require_sasl: bool = False,
        keep_config: bool = False,
    ) -> None:
        if client_auth not in CLIENT_AUTH_MODES:
            raise ValueError(f"client_auth must be one of {', '.join(CLIENT_AUTH_MODES)}, not {client_auth!r}")
        if tls_port is not None and not tls:
            raise ValueError("tls_port given without tls=True")
        if super_password is not None and (not isinstance(super_password, str) or not super_password):
            raise ValueError("super_password must be a non-empty str")
        for key in ("clientPort", "dataDir"):
            if key in (extra_config or {}):
                raise ValueError(f"pass {key} as port=/data_dir=, not in extra_config")
        self._java = java or find_java()
        self._classpath = list(classpath) if classpath is not None else zookeeper_classpath()
        self._port = port if port is not None else free_port()
        self._owns_dir = data_dir is None
        if data_dir is None:
            self._data_dir = _process.make_temp_dir()
        else:
            self._data_dir = os.path.abspath(data_dir)
            os.makedirs(self._data_dir, exist_ok=True)
        self._server_id = server_id
        self._keep_config = keep_config
        self._super_password = super_password
        self._java_options = []
        if super_password is not None:
            digest = base64.b64encode(hashlib.sha1(f"super:{super_password}".encode()).digest()).decode()
            self._java_options.append(f"-Dzookeeper.DigestAuthenticationProvider.superDigest=super:{digest}")
        self._sasl_users = _check_sasl_users(sasl_users)
        self._kerberos = kerberos
        if self._sasl_users and kerberos is not None:
            raise ValueError("give sasl_users (DIGEST-MD5) or kerberos (GSSAPI), not both")
        if require_sasl and not self._sasl_users and kerberos is None:
            raise ValueError("require_sasl needs sasl_users or kerberos: no client could log in")
        if kerberos is not None:
            self._java_options.append(f"-Djava.security.krb5.conf={kerberos.krb5_conf}")
        if self._sasl_users or kerberos is not None:
            self._java_options += [
                f"-Djava.security.auth.login.config={self._jaas_path}",
                f"-Dzookeeper.authProvider.sasl={SASL_PROVIDER}",
            ]
        if require_sasl:
            self._java_options.append("-Dzookeeper.sessionRequireClientSASLAuth=true")
        self._java_options += list(java_options)
        self._certificates: Optional[Certificates] = None
        self._tls_port: Optional[int] = None
        if tls:
            self._certificates = make_certificates(os.path.join(self._data_dir, "tls"),
                                                   server_names=tls_server_names)
            self._tls_port = tls_port if tls_port is not None else free_port()
        self.start_timeout = start_timeout
        self._proc: Optional[subprocess.Popen[bytes]] = None
        self._closed = False
        config: Dict[str, object] = {
            "tickTime": tick_time,
            "minSessionTimeout": min_session_timeout,
            "maxSessionTimeout": max_session_timeout,
            "dataDir": self._data_dir,
            "clientPort": self._port,
            "clientPortAddress": "127.0.0.1",
            "4lw.commands.whitelist": "*",
            "admin.enableServer": False,
            "maxClientCnxns": 0,
            # Each commit still reaches the OS before the reply (so data
            # survives a SIGKILL), only the fsync is skipped: on slow disks
            # fsync per write made test suites several times slower.
            "forceSync": "no",
        }
        if self._certificates is not None:
            config.update({
                "secureClientPort": self._tls_port,
                "secureClientPortAddress": "127.0.0.1",
                "serverCnxnFactory": NETTY_FACTORY,
                "ssl.keyStore.location": self._certificates.server_keystore,
                "ssl.keyStore.type": "PEM",
                "ssl.trustStore.location": self._certificates.ca_file,
                "ssl.trustStore.type": "PEM",
                "ssl.clientAuth": client_auth,
            })
        for key, value in (extra_config or {}).items():
            if value is None:
                config.pop(key, None)
            else:
                config[key] = value
        self._config = {k: _format_value(v) for k, v in config.items()}
        if self._config.get("serverCnxnFactory") == NETTY_FACTORY and classpath is None:
            # (Debian's zookeeper.jar manifest misses some jars Netty needs.)
            self._classpath += netty_classpath(self._classpath)

    # -- read-only facts -------------------------------------------------

    @property
    def port(self) -> int:
        """The client port (on 127.0.0.1)."""
        return self._port

    @property
    def hosts(self) -> str:
        """The connect string for clients: ``"127.0.0.1:PORT"``."""
        return f"127.0.0.1:{self._port}"

    @property
    def tls_port(self) -> Optional[int]:
        """The TLS client port (on 127.0.0.1), with ``tls``; else None."""
        return self._tls_port

    @property
    def tls_hosts(self) -> str:
        """The connect string for TLS clients: ``"127.0.0.1:TLS_PORT"``."""
        if self._tls_port is None:
            raise RuntimeError("this server has no TLS port: make it with tls=True")
        return f"127.0.0.1:{self._tls_port}"

    @property
    def certificates(self) -> Certificates:
        """The PEM files made for ``tls`` (RuntimeError without ``tls``)."""
        if self._certificates is None:
            raise RuntimeError("this server has no certificates: make it with tls=True")
        return self._certificates

    @property
    def ca_file(self) -> str:
        """The CA certificate the server's certificate is signed with (``ca=``)."""
        return self.certificates.ca_file

    @property
    def client_cert(self) -> str:
        """A client certificate the server trusts (``certfile=``)."""
        return self.certificates.client_cert

    @property
    def client_key(self) -> str:
        """The key of ``client_cert`` (``keyfile=``)."""
        return self.certificates.client_key

    @property
    def client_identity(self) -> str:
        """The ``x509`` identity the server gives a client presenting
        ``client_cert`` (``CN=...``): the id for ``make_x509_acl``."""
        return self.certificates.client_identity

    def tls_options(self, client_cert: bool = True) -> Dict[str, object]:
        """Keyword arguments for a ``pykeeper.ZooKeeper`` speaking TLS to
        this server: ``use_ssl``, ``ca`` and (with ``client_cert``) the
        client certificate and key."""
        options: Dict[str, object] = {"use_ssl": True, "ca": self.ca_file}
        if client_cert:
            options.update(certfile=self.client_cert, keyfile=self.client_key)
        return options

    @property
    def super_credentials(self) -> str:
        """``"super:PASSWORD"`` for ``add_auth("digest", ...)``, with ``super_password``."""
        if self._super_password is None:
            raise RuntimeError("this server has no super user: make it with super_password=...")
        return f"super:{self._super_password}"

    def sasl_options(self, user: str) -> Dict[str, str]:
        """The client's ``sasl_options`` to log in as one of ``sasl_users``
        (KeyError for a user the server was not given)."""
        return {"mechanism": "DIGEST-MD5", "username": user,
                "password": self._sasl_users[user]}

    @property
    def kerberos_principal(self) -> str:
        """The server's own principal, with ``kerberos``."""
        if self._kerberos is None:
            raise RuntimeError("this server has no Kerberos realm: make it with kerberos=")
        return self._kerberos.principal(KERBEROS_SERVICE)

    @property
    def kerberos_hosts(self) -> str:
        """``localhost:PORT``: the host name the server's principal names."""
        return f"localhost:{self._port}"

    @property
    def _jaas_path(self) -> str:
        return os.path.join(self._data_dir, "jaas.conf")

    @property
    def data_dir(self) -> str:
        """Directory holding zoo.cfg, server.log and the server's data."""
        return self._data_dir

    @property
    def config_path(self) -> str:
        return os.path.join(self._data_dir, "zoo.cfg")

    @property
    def log_path(self) -> str:
        """The server's combined stdout/stderr, appended to across restarts."""
        return os.path.join(self._data_dir, "server.log")

    @property
    def config(self) -> Dict[str, str]:
        """A copy of the zoo.cfg settings."""
        return dict(self._config)

    @property
    def pid(self) -> Optional[int]:
        """The Java process id while the server process exists, else None."""
        return self._proc.pid if self._proc is not None and self.running else None

    @property
    def running(self) -> bool:
        """True while the server process is alive (whether or not it serves yet)."""
        return self._proc is not None and _process.poll(self._proc) is None

    # -- life cycle --------------------------------------------------------

    def start(self, wait: bool = True, timeout: Optional[float] = None) -> None:
        """Start the server process; a no-op if it is already running.

        With ``wait``, return only once ``srvr`` reports a Mode (the server
        serves clients); an ensemble member without a quorum never does, so
        start those with ``wait=False``. Raises ServerStartError (the process
        is killed first) if it dies or does not serve within ``timeout``
        (default ``start_timeout``), RuntimeError after ``close()``.
        """
        if self._closed:
            raise RuntimeError("this ZooKeeperServer is closed")
        if self.running:
            return
        self.stop()  # forget (and reap) a process that died on its own
        self._write_files()
        argv = [
            self._java,
            *JVM_OPTIONS,
            f"-Djava.io.tmpdir={self._data_dir}",
            *self._java_options,
            "-cp",
            os.pathsep.join(self._classpath),
            MAIN_CLASS,
            self.config_path,
        ]
        with open(self.log_path, "ab") as f:
            tls = f" and TLS port {self._tls_port}" if self._tls_port is not None else ""
            f.write(f"--- pykeeper: starting server on port {self._port}{tls} at {time.ctime()} ---\n".encode())
        self._proc = _process.spawn(argv, log_path=self.log_path, cwd=self._data_dir)
        log.debug("ZooKeeper server %s starting, pid %d, dir %s", self.hosts, self._proc.pid, self._data_dir)
        if wait:
            try:
                self.wait_until_serving(timeout)
            except BaseException:
                self.stop()
                raise

    def wait_until_serving(self, timeout: Optional[float] = None) -> str:
        """Poll ``srvr`` until the server reports a Mode, and return that mode.

        With TLS, the TLS port must accept connections too. Raises
        ServerStartError if the process is not running or exits, or if
        ``timeout`` (default ``start_timeout``) passes first.
        """
        limit = self.start_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        while True:
            proc = self._proc
            code = _process.poll(proc) if proc is not None else None
            if proc is None or code is not None:
                detail = "was never started" if proc is None else f"exited with status {code}"
                raise ServerStartError(f"ZooKeeper server on port {self._port} {detail}", self.log_tail())
            mode = self.mode(timeout=_PROBE_TIMEOUT)
            # (The TLS port opens a moment after the plain one answers.)
            if mode is not None and self._tls_port_listening():
                return mode
            if time.monotonic() >= deadline:
                raise ServerStartError(
                    f"ZooKeeper server on port {self._port} (pid {proc.pid}) not serving after {limit:g} s",
                    self.log_tail(),
                )
            time.sleep(_PROBE_INTERVAL)

    def _tls_port_listening(self) -> bool:
        if self._tls_port is None:
            return True
        try:
            with socket.create_connection(("127.0.0.1", self._tls_port), timeout=_PROBE_TIMEOUT):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        """Kill the server at once (SIGKILL, no clean shutdown) and reap it; a no-op if stopped."""
        proc, self._proc = self._proc, None
        if proc is not None:
            _process.kill(proc)
            log.debug("ZooKeeper server %s stopped", self.hosts)

    def restart(self, wait: bool = True, timeout: Optional[float] = None) -> None:
        """``stop()`` then ``start()`` with the same port, data and config."""
        self.stop()
        self.start(wait=wait, timeout=timeout)

    def close(self) -> None:
        """Stop the server and delete its directory (if this object created it); idempotent."""
        self._closed = True
        self.stop()
        if self._owns_dir:
            _process.remove_temp_dir(self._data_dir)

    def __enter__(self) -> "ZooKeeperServer":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- talking to it -------------------------------------------------------

    def four_letter(self, word: str, timeout: float = 1.0) -> str:
        """Send a four-letter command (``srvr``, ``ruok``, ``mntr``, ...) and return the reply.

        Raises OSError when the server cannot be reached or is too slow.
        """
        return four_letter("127.0.0.1", self._port, word, timeout)

    def mode(self, timeout: float = 1.0) -> Optional[str]:
        """Return ``standalone``, ``leader``, ``follower`` or ``observer``; None if not serving or unreachable."""
        try:
            return parse_mode(self.four_letter("srvr", timeout))
        except OSError:
            return None

    def log_tail(self, max_bytes: int = _LOG_TAIL_BYTES) -> str:
        """Return the end of ``server.log`` ('' if there is none yet)."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - max_bytes))
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _write_files(self) -> None:
        if self._keep_config and os.path.exists(self.config_path):
            return  # (the server rewrote it, as reconfigEnabled servers do: keep that)
        with open(self.config_path, "w") as f:
            f.write("# written by pykeeper.testing\n")
            for key, value in self._config.items():
                f.write(f"{key}={value}\n")
        if self._kerberos is not None:
            keytab = self._kerberos.keytab(KERBEROS_SERVICE)
            with open(self._jaas_path, "w") as f:
                f.write(f'Server {{\n  {KRB5_LOGIN_MODULE} required\n    useKeyTab=true\n'
                        f'    keyTab="{keytab}"\n    storeKey=true\n    useTicketCache=false\n'
                        f'    principal="{self.kerberos_principal}";\n}};\n')
        if self._sasl_users:
            users = "".join(f'\n    user_{user}="{password}"'
                            for user, password in self._sasl_users.items())
            with open(self._jaas_path, "w") as f:
                f.write(f"Server {{\n  {DIGEST_LOGIN_MODULE} required{users};\n}};\n")
        if self._server_id is not None:
            with open(os.path.join(self._data_dir, "myid"), "w") as f:
                f.write(f"{self._server_id}\n")

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.running else "stopped"
        tls = f" tls {self.tls_hosts}" if self._tls_port is not None else ""
        return f"<ZooKeeperServer {self.hosts}{tls} {state} {self._data_dir}>"
