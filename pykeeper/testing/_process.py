"""Bookkeeping for the server processes and temporary directories we create.

The promise this module keeps: no Java process outlives the Python process
that started it, however that process ends.

- Normal exit: an ``atexit`` handler kills and reaps every live process and
  removes every temporary directory still registered.
- SIGKILL (or any death that skips ``atexit``): on Linux each child asks the
  kernel, through ``prctl(PR_SET_PDEATHSIG, SIGKILL)``, to be killed when its
  parent goes. The kernel ties that to the *thread* that forked the child,
  not the process, so every child is forked from one long-lived daemon
  "spawner" thread; a child forked from a short-lived test thread would be
  killed the moment that thread returned. Directories left behind this way
  are removed by the next process that creates one (``sweep_stale_dirs``).

Each child also gets its own session (``start_new_session``), so a Ctrl-C
in the terminal reaches only the test runner, which then cleans up in order.
"""

from __future__ import annotations

import atexit
import ctypes
import glob
import logging
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import Future
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple, TypeVar

__all__ = [
    "TEMP_PREFIX",
    "spawn",
    "kill",
    "poll",
    "make_temp_dir",
    "remove_temp_dir",
    "sweep_stale_dirs",
    "cleanup_all",
]

log = logging.getLogger("pykeeper.testing")

TEMP_PREFIX = "pykeeper-zk-"
_OWNER_FILE = ".pykeeper-owner"
_PR_SET_PDEATHSIG = 1
_SIGKILL = int(signal.SIGKILL)

T = TypeVar("T")


def _load_prctl() -> Optional[Callable[..., int]]:
    if not sys.platform.startswith("linux"):
        return None
    for name in (None, "libc.so.6"):
        try:
            prctl = ctypes.CDLL(name, use_errno=True).prctl
        except (OSError, AttributeError):
            continue
        prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        prctl.restype = ctypes.c_int
        return prctl
    return None


# Looked up in the parent: the forked child must not load libraries.
_PRCTL = _load_prctl()


def _child_setup(parent_pid: int) -> None:
    """Run in the forked child just before exec."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, _SIGKILL, 0, 0, 0)
    # The parent may have died between fork and prctl; the signal would then
    # never come, so leave now instead of becoming an orphan server.
    if os.getppid() != parent_pid:
        os._exit(70)


class _Spawner:
    """Runs callables on one long-lived daemon thread (see module docstring)."""

    def __init__(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._thread: Optional[threading.Thread] = None
        self._jobs: "queue.SimpleQueue[Tuple[Callable[[], Any], Future[Any]]]" = queue.SimpleQueue()

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the spawner thread and return its result (or raise its error)."""
        if self._pid != os.getpid():
            # A forked child inherits neither the thread nor a usable lock.
            self.__init__()  # type: ignore[misc]  # (anew in a fork)
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._jobs = queue.SimpleQueue()
                self._thread = threading.Thread(
                    target=self._run, args=(self._jobs,), name="pykeeper-zk-spawner", daemon=True
                )
                self._thread.start()
            if threading.current_thread() is self._thread:
                return fn()
            future: "Future[T]" = Future()
            self._jobs.put((fn, future))
        return future.result()

    @staticmethod
    def _run(jobs: "queue.SimpleQueue[Tuple[Callable[[], Any], Future[Any]]]") -> None:
        while True:
            fn, future = jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as exc:  # handed to the caller, never lost here
                future.set_exception(exc)


class _Registry:
    """Every live child process and temporary directory of this Python process."""

    def __init__(self) -> None:
        self.owner_pid = os.getpid()
        self.lock = threading.RLock()
        self.procs: Dict[int, subprocess.Popen[bytes]] = {}
        self.dirs: Set[str] = set()
        self.swept = False

    def current(self) -> "_Registry":
        if self.owner_pid != os.getpid():
            # A forked child does not own its parent's servers.
            self.__init__()  # type: ignore[misc]  # (anew in a fork)
        return self


_spawner = _Spawner()
_registry = _Registry()


def spawn(
    argv: Sequence[str],
    *,
    log_path: str,
    cwd: Optional[str] = None,
    env: Optional[Dict[str, str]] = None,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` with stdout and stderr appended to ``log_path``.

    Returns the Popen, already registered for killing at exit. Raises OSError
    if the executable cannot be run.
    """
    reg = _registry.current()
    parent_pid = os.getpid()

    def launch() -> subprocess.Popen[bytes]:
        with open(log_path, "ab") as log_file:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=env,
                close_fds=True,
                start_new_session=True,
                preexec_fn=lambda: _child_setup(parent_pid),
            )
        # Registered on the spawner thread, before anyone can be interrupted
        # waiting for it, so there is no moment when it could be forgotten.
        with reg.lock:
            reg.procs[proc.pid] = proc
        return proc

    proc = _spawner.call(launch)
    log.debug("started pid %d: %s", proc.pid, " ".join(argv))
    return proc


def poll(proc: subprocess.Popen[bytes]) -> Optional[int]:
    """Return the exit code of ``proc``, or None while it runs (reaping it if it died)."""
    with _registry.current().lock:
        return proc.poll()


def kill(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> Optional[int]:
    """SIGKILL ``proc`` and its process group, reap it, and forget it.

    Returns its exit status. Raises subprocess.TimeoutExpired if it has not
    died after ``timeout`` seconds (the kernel is then in trouble).
    """
    reg = _registry.current()
    with reg.lock:
        # Only signal a child not yet reaped: once reaped, its pid (and
        # process-group id) may already belong to some other process.
        if proc.returncode is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            except PermissionError:
                proc.kill()
    code = proc.wait(timeout)
    with reg.lock:
        reg.procs.pop(proc.pid, None)
    return code


def _proc_start_time(pid: int) -> Optional[str]:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses.
    fields = stat[stat.rfind(")") + 2 :].split()
    if fields and fields[0] in ("Z", "X"):
        return None
    return fields[19] if len(fields) > 19 else None


def _owner_record(pid: int) -> Optional[str]:
    """Return "pid start-time pid-namespace" naming process ``pid`` uniquely, if /proc allows."""
    start = _proc_start_time(pid)
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    if start is None:
        return None
    return f"{pid} {start} {namespace}"


def make_temp_dir(kind: str = "") -> str:
    """Create and register a directory named ``pykeeper-zk-<kind>...`` in the temp dir.

    Returns its absolute path. It is removed by ``remove_temp_dir``, at exit,
    or, if this process dies without cleaning up, by a later ``sweep_stale_dirs``.
    """
    reg = _registry.current()
    if not reg.swept:
        reg.swept = True
        sweep_stale_dirs()
    path = os.path.realpath(tempfile.mkdtemp(prefix=TEMP_PREFIX + kind))
    with reg.lock:
        reg.dirs.add(path)
    owner = _owner_record(os.getpid())
    if owner is not None:
        with open(os.path.join(path, _OWNER_FILE), "w") as f:
            f.write(owner + "\n")
    return path


def remove_temp_dir(path: str) -> None:
    """Delete a directory made by ``make_temp_dir`` and forget it; missing is fine."""
    reg = _registry.current()
    shutil.rmtree(path, ignore_errors=True)
    with reg.lock:
        reg.dirs.discard(path)


def sweep_stale_dirs(tmp: Optional[str] = None) -> List[str]:
    """Remove ``pykeeper-zk-*`` directories whose creating process is gone.

    Only directories whose owner record names a dead process of our own pid
    namespace (a reused pid is told apart by its start time) are touched.
    Returns the directories removed.
    """
    removed: List[str] = []
    try:
        our_namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return removed  # no /proc: no way to tell a dead owner from a live one
    for path in glob.glob(os.path.join(tmp or tempfile.gettempdir(), TEMP_PREFIX + "*")):
        try:
            with open(os.path.join(path, _OWNER_FILE)) as f:
                pid_text, start, namespace = f.read().split()
        except (OSError, ValueError):
            continue
        # Pids of another pid namespace (another container sharing this
        # /tmp) cannot be checked from here: leave those alone.
        if namespace != our_namespace or _owner_record(int(pid_text)) == f"{pid_text} {start} {namespace}":
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
        log.debug("removed stale %s", path)
    return removed


def cleanup_all() -> None:
    """Kill every registered process and remove every registered directory."""
    reg = _registry
    if reg.owner_pid != os.getpid():
        return
    with reg.lock:
        procs = list(reg.procs.values())
        dirs = list(reg.dirs)
    for proc in procs:
        try:
            kill(proc)
        except Exception:  # keep going: the others must still die
            log.exception("could not kill pid %d", proc.pid)
    for path in dirs:
        remove_temp_dir(path)


atexit.register(cleanup_all)
