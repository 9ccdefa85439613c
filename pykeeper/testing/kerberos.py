"""A real MIT Kerberos KDC for tests: a realm of its own in a temporary
directory, principals and keytabs made on request.

    with KerberosRealm() as realm:
        with ZooKeeperServer(kerberos=realm) as server:   # zookeeper/localhost
            os.environ.update(realm.client_environment("app"))
            client = pykeeper.ZooKeeper(f"localhost:{server.port}",
                                        sasl_options={"mechanism": "GSSAPI"})

It needs Debian's krb5-kdc, krb5-admin-server (kadmin.local) and krb5-user
packages; KerberosNotInstalled says so when they are missing. The KDC
listens on a free loopback port (clients use TCP); nothing is left running.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from typing import Dict, Optional

from . import _process
from ._ports import free_port
from ._wait import wait_until

__all__ = ["KerberosNotInstalled", "KerberosRealm", "DEFAULT_REALM"]

DEFAULT_REALM = "PYKEEPER.TEST"
_TOOLS = {"krb5kdc": "krb5-kdc", "kdb5_util": "krb5-kdc", "kadmin.local": "krb5-admin-server",
          "kinit": "krb5-user"}
_SEARCH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])


class KerberosNotInstalled(RuntimeError):
    """The MIT Kerberos KDC programs are not installed."""


def _tool(name: str) -> str:
    found = shutil.which(name, path=_SEARCH)
    if found is None:
        raise KerberosNotInstalled(
            f"{name} not found: install Debian's packages with "
            f"apt-get install krb5-kdc krb5-admin-server krb5-user")
    return found


class KerberosRealm:
    """A KDC process serving `realm` on 127.0.0.1, with its database,
    configuration and keytabs in a temporary directory (removed on close)."""

    def __init__(self, realm: str = DEFAULT_REALM, start_timeout: float = 30.0) -> None:
        self.realm = realm
        self._tools = {name: _tool(name) for name in _TOOLS}
        self.port = free_port()
        self.directory = _process.make_temp_dir("krb5-")
        self._proc: Optional[subprocess.Popen[bytes]] = None
        self._write_configuration()
        try:
            self._run("kdb5_util", "create", "-s", "-r", realm, "-P", os.urandom(12).hex())
            self._proc = _process.spawn([self._tools["krb5kdc"], "-n", "-r", realm],
                                        log_path=self.path("kdc.log"), env=self.environment())
            wait_until(self._listening, start_timeout, message=f"the KDC on port {self.port}")
        except BaseException:
            self.close()
            raise

    # -- files and environment ----------------------------------------------

    def path(self, name: str) -> str:
        return os.path.join(self.directory, name)

    @property
    def krb5_conf(self) -> str:
        """The krb5.conf clients and servers of this realm use."""
        return self.path("krb5.conf")

    def environment(self) -> Dict[str, str]:
        """Variables pointing the Kerberos library at this realm."""
        return dict(os.environ, KRB5_CONFIG=self.krb5_conf,
                    KRB5_KDC_PROFILE=self.path("kdc.conf"))

    def client_environment(self, principal: str) -> Dict[str, str]:
        """KRB5_CONFIG, KRB5_CLIENT_KTNAME and KRB5CCNAME for a client that
        logs in as `principal` from its keytab (made if it does not exist),
        with a ticket cache of its own."""
        keytab = self.keytab(principal)
        return {"KRB5_CONFIG": self.krb5_conf, "KRB5_CLIENT_KTNAME": keytab,
                "KRB5CCNAME": "FILE:" + self.path(f"{_file_name(principal)}.ccache")}

    def principal(self, name: str) -> str:
        """`name` with this realm's suffix ("app" -> "app@PYKEEPER.TEST")."""
        return name if "@" in name else f"{name}@{self.realm}"

    def keytab(self, principal: str) -> str:
        """A keytab holding a random key of `principal` (added to the realm
        the first time); returns its path."""
        path = self.path(f"{_file_name(principal)}.keytab")
        if not os.path.exists(path):
            full = self.principal(principal)
            self._run("kadmin.local", "-r", self.realm, "-q", f"addprinc -randkey {full}")
            self._run("kadmin.local", "-r", self.realm, "-q", f"ktadd -k {path} {full}")
        return path

    def rekey(self, principal: str) -> None:
        """Give `principal` a new random key in the KDC, leaving its keytab
        with the old one (so a login from it fails, as with a stale keytab)."""
        self._run("kadmin.local", "-r", self.realm, "-q",
                  f"cpw -randkey {self.principal(principal)}")

    # -- life ------------------------------------------------------------------

    def close(self) -> None:
        if self._proc is not None:
            _process.kill(self._proc)
            self._proc = None
        _process.remove_temp_dir(self.directory)

    def __enter__(self) -> "KerberosRealm":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<KerberosRealm {self.realm} on 127.0.0.1:{self.port} {self.directory}>"

    def _listening(self) -> bool:
        if self._proc is not None and self._proc.poll() is not None:
            raise RuntimeError(f"the KDC exited with {self._proc.returncode}: "
                               f"{self._read('kdc.log')[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run([self._tools[tool], *args], env=self.environment(),
                              capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} {args[0]} failed: {done.stderr.strip()[-2000:]}")

    def _read(self, name: str) -> str:
        try:
            with open(self.path(name), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def _write_configuration(self) -> None:
        realm, port, path = self.realm, self.port, self.path
        with open(self.krb5_conf, "w") as f:
            f.write(f"""[libdefaults]
  default_realm = {realm}
  dns_lookup_realm = false
  dns_lookup_kdc = false
  dns_canonicalize_hostname = false
  rdns = false
  udp_preference_limit = 1
  ignore_acceptor_hostname = false

[realms]
  {realm} = {{
    kdc = 127.0.0.1:{port}
  }}

[domain_realm]
  localhost = {realm}
  127.0.0.1 = {realm}
""")
        with open(path("kdc.conf"), "w") as f:
            f.write(f"""[kdcdefaults]
  kdc_listen = 127.0.0.1:{port}
  kdc_tcp_listen = 127.0.0.1:{port}

[realms]
  {realm} = {{
    database_name = {path("principal")}
    key_stash_file = {path("stash")}
    acl_file = {path("kadm5.acl")}
    kdc_listen = 127.0.0.1:{port}
    kdc_tcp_listen = 127.0.0.1:{port}
    max_life = 10h 0m 0s
    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
  }}

[logging]
  kdc = FILE:{path("kdc.log")}
""")
        with open(path("kadm5.acl"), "w") as f:
            f.write("")


def _file_name(principal: str) -> str:
    return principal.replace("/", "_").replace("@", "_at_")
