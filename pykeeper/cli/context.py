"""What every command is run with: the connection options (hosts,
credentials from the environment or a file, TLS, timeout), the client made
from them, where output goes, the shell's current node; and the exit codes."""

from __future__ import annotations

import argparse
import contextlib
import os
import posixpath
import signal
import sys
import threading
from typing import IO, Any, Dict, Iterator, List, Optional, Tuple

from ..clients.sync import ZooKeeper
from ..core.retry import RetryPolicy
from ..protocol.errors import (
    AuthFailedException, BadVersionException, ConnectionLossException, InvalidACLException,
    NoAuthException, NodeExistsException, NoNodeException, NotEmptyException,
    SessionExpiredException, TimeoutException, ZooKeeperException,
)

__all__ = [
    "CONNECTION_OPTIONS", "EXIT_CODES", "CommandError", "Context", "add_connection_options",
    "count", "error_exit", "positive_seconds", "run",
]

DEFAULT_HOSTS = "127.0.0.1:2181"
# (code, meaning), as `pykeeper --help` lists them.
EXIT_CODES: List[Tuple[int, str]] = [
    (0, "done (diff: the trees are the same)"),
    (1, "a ZooKeeper error not listed here (diff: the trees differ)"),
    (2, "bad usage: unknown command or option, bad argument"),
    (3, "no such node"),
    (4, "the node already exists"),
    (5, "not allowed: the node's ACL, or credentials the server refused"),
    (6, "no server answered within --timeout, or the connection was lost"),
    (7, "conflict: the node's version changed, or it has children"),
    (130, "interrupted (Ctrl-C)"),
]


class CommandError(Exception):
    """A failure to report as one line and an exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def error_exit(exc: BaseException) -> CommandError:
    """The one line and exit code for an error a command raised."""
    if isinstance(exc, CommandError):
        return exc
    text = str(exc) or type(exc).__name__
    if isinstance(exc, NoNodeException):
        return CommandError(text, 3)
    if isinstance(exc, NodeExistsException):
        return CommandError(text, 4)
    if isinstance(exc, (NoAuthException, AuthFailedException)):
        return CommandError(text, 5)
    if isinstance(exc, (TimeoutException, ConnectionLossException, SessionExpiredException)):
        return CommandError(text, 6)
    if isinstance(exc, (BadVersionException, NotEmptyException)):
        return CommandError(text, 7)
    if isinstance(exc, (InvalidACLException, ValueError, TypeError)):
        return CommandError(text, 2)
    if isinstance(exc, ZooKeeperException):
        return CommandError(f"{type(exc).__name__}: {text}", 1)
    if isinstance(exc, OSError):
        return CommandError(f"{exc.strerror or text}: {exc.filename}" if exc.filename else text, 1)
    return CommandError(f"internal error: {type(exc).__name__}: {text}", 1)


def positive_seconds(text: str) -> float:
    """--timeout's type: a number of seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, not {text}")
    return value


def count(text: str) -> int:
    """A whole number >= 0 (--depth, --count)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


# Options fixed when a shell starts (a line of the shell may not change them).
CONNECTION_OPTIONS = ("hosts", "auth_file", "timeout", "tls", "ca", "cert", "key",
                      "no_verify_hostname")


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """The options every command takes (before or after its name)."""
    group = parser.add_argument_group("connection")
    sup = argparse.SUPPRESS
    group.add_argument("--hosts", default=sup, metavar="HOSTS",
                       help="host:port[,host:port...][/chroot] (default: $ZOOKEEPER_HOSTS, "
                            f"else {DEFAULT_HOSTS})")
    group.add_argument("--auth-file", default=sup, metavar="FILE",
                       help="read SCHEME:CREDENTIAL (e.g. digest:user:password, or for "
                            "SASL sasl:DIGEST-MD5:user:password, sasl:GSSAPI[:principal]) "
                            "from FILE; $ZOOKEEPER_AUTH is read otherwise. Never taken on "
                            "the command line, so it never shows in ps")
    group.add_argument("--timeout", default=sup, type=positive_seconds, metavar="SECONDS",
                       help="give up connecting (or waiting out a lost connection) after "
                            "this long (default 10)")
    group.add_argument("--tls", default=sup, action="store_true",
                       help="connect to the servers' TLS port")
    group.add_argument("--ca", default=sup, metavar="FILE",
                       help="CA certificates to trust (implies --tls)")
    group.add_argument("--cert", default=sup, metavar="FILE",
                       help="client certificate (implies --tls; key password: "
                            "$ZOOKEEPER_KEY_PASSWORD)")
    group.add_argument("--key", default=sup, metavar="FILE", help="the client certificate's key")
    group.add_argument("--no-verify-hostname", default=sup, action="store_true",
                       help="accept a server certificate that does not name the host")
    group.add_argument("--json", default=sup, action="store_true",
                       help="print JSON (read commands), for scripts")


@contextlib.contextmanager
def _interrupts_to_this_thread() -> Iterator[None]:
    """Start the client's threads with SIGINT blocked in them (they inherit
    the mask), so that Ctrl-C always reaches the main thread, waiting at a
    prompt or for an event, and not a client thread that would leave it be."""
    block = getattr(signal, "pthread_sigmask", None)
    if block is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    block(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        block(signal.SIG_UNBLOCK, {signal.SIGINT})


class Context:
    """A command's surroundings; the client is made on first use."""

    def __init__(self, args: argparse.Namespace, out: Optional[IO[str]] = None,
                 err: Optional[IO[str]] = None) -> None:
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr
        self.cwd = "/"
        self.update(args)
        self._clients: Dict[str, ZooKeeper] = {}

    def update(self, args: argparse.Namespace) -> None:
        """Take the connection options given (a shell line may give some)."""
        get = vars(args).get
        self.hosts: str = get("hosts") or os.environ.get("ZOOKEEPER_HOSTS") or DEFAULT_HOSTS
        self.timeout: float = get("timeout") or 10.0
        self.json: bool = bool(get("json"))
        self.auth_file: Optional[str] = get("auth_file")
        tls: Dict[str, Any] = {"use_ssl": bool(get("tls") or get("ca") or get("cert"))}
        if tls["use_ssl"]:
            tls.update(ca=get("ca"), certfile=get("cert"), keyfile=get("key"),
                       keyfile_password=os.environ.get("ZOOKEEPER_KEY_PASSWORD") or None)
            if get("no_verify_hostname"):
                tls["verify_hostname"] = False
        self.tls = tls

    def credentials(self) -> Optional[Tuple[str, str]]:
        """(scheme, credential) from --auth-file or $ZOOKEEPER_AUTH, or None."""
        if self.auth_file:
            with open(self.auth_file, encoding="utf-8") as f:
                text = f.readline().strip()
            where = self.auth_file
        else:
            text = os.environ.get("ZOOKEEPER_AUTH", "").strip()
            where = "$ZOOKEEPER_AUTH"
        if not text:
            return None
        scheme, sep, credential = text.partition(":")
        if not sep or not scheme or not credential:
            raise CommandError(f"{where} must hold SCHEME:CREDENTIAL, e.g. digest:user:password",
                               2)
        if scheme.lower() == "sasl":
            self._sasl_options(credential, where)  # (checked now: before connecting)
        return scheme, credential

    @staticmethod
    def _sasl_options(credential: str, where: str) -> Dict[str, str]:
        """sasl_options from "DIGEST-MD5:user:password" or "GSSAPI[:principal]"."""
        mechanism, _, rest = credential.partition(":")
        mechanism = mechanism.upper()
        if mechanism == "DIGEST-MD5":
            user, sep, password = rest.partition(":")
            if user and sep:
                return {"mechanism": mechanism, "username": user, "password": password}
        elif mechanism == "GSSAPI":
            return {"mechanism": mechanism, **({"principal": rest} if rest else {})}
        raise CommandError(f"{where} must hold sasl:DIGEST-MD5:USER:PASSWORD or "
                           f"sasl:GSSAPI[:PRINCIPAL]", 2)

    def client(self, hosts: Optional[str] = None) -> ZooKeeper:
        """A connected client of `hosts` (default --hosts), made once."""
        hosts = hosts or self.hosts
        client = self._clients.get(hosts)
        if client is None:
            credentials = self.credentials()
            sasl: Dict[str, Any] = {}
            if credentials is not None and credentials[0].lower() == "sasl":
                sasl["sasl_options"] = self._sasl_options(credentials[1], "the credentials")
                credentials = None
            try:
                client = ZooKeeper(hosts, retry=RetryPolicy(max_tries=None, deadline=self.timeout),
                                   connect_timeout=min(self.timeout, 5.0), **self.tls, **sasl)
            except ImportError as exc:  # (GSSAPI without its library: says what to install)
                raise CommandError(str(exc), 1) from None
            with _interrupts_to_this_thread():
                client.connect(timeout=self.timeout)
            if credentials is not None:
                client.add_auth(*credentials)
            self._clients[hosts] = client
        result: ZooKeeper = client
        return result

    def path(self, path: str) -> str:
        """`path` made absolute against the shell's current node, normalized."""
        joined = posixpath.normpath(posixpath.join(self.cwd, path))
        return "/" + joined.lstrip("/")

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def print(self, *parts: Any) -> None:
        self.out.write(" ".join(str(p) for p in parts) + "\n")


def run(ctx: Context, args: argparse.Namespace) -> int:
    """Run a parsed command; errors become one line on stderr and an exit code."""
    try:
        code: int = args.func(ctx, args)
        return code
    except KeyboardInterrupt:
        ctx.err.write("\ninterrupted\n")
        return 130
    except Exception as exc:
        error = error_exit(exc)
        ctx.err.write(f"pykeeper: {error}\n")
        return error.code
