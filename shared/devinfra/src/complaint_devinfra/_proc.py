"""Process-group bookkeeping shared by the Kafka and PostgreSQL launchers.

Every server we start runs in its own process group (its own session, so a
Ctrl-C in the terminal reaches only pytest, which then tears down in order).
The groups are recorded here so that they are killed however this process
ends:

* normal exit or KeyboardInterrupt -> ``atexit``;
* SIGTERM / SIGHUP (CI time-outs, closed terminals) -> a handler that cleans
  up and then re-delivers the signal;
* SIGKILL or ``os._exit`` -> nothing in-process can run, so a tiny watchdog
  child (``_watchdog``) holds the read end of a pipe and kills the recorded
  groups when that pipe reaches EOF.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

T = TypeVar("T")

# Leftover policy: the data of a leftover server is thrown away, so Kafka may
# die hard; PostgreSQL gets SIGQUIT (immediate shutdown) first because a
# SIGKILLed postmaster leaks its SysV shared-memory segment.
SIGNAL_KAFKA = signal.SIGKILL
SIGNAL_POSTGRES = signal.SIGQUIT

_lock = threading.RLock()
_groups: dict[int, int] = {}  # pgid -> first signal to send when cleaning up
_dirs: set[Path] = set()
_watchdog: subprocess.Popen[bytes] | None = None
_installed = False
_previous_handlers: dict[int, Any] = {}


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1 (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(path: Path | None, lines: int = 60) -> str:
    """The last ``lines`` lines of a text file, or a note why there are none."""
    if path is None:
        return "(no log file)"
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 256 * 1024))
            data = handle.read().decode("utf-8", errors="replace")
    except OSError as exc:
        return f"(cannot read {path}: {exc})"
    return "\n".join(data.splitlines()[-lines:])


def run_sync(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from synchronous code.

    A private loop on a worker thread is used even when no loop is running:
    ``asyncio.run`` on the main thread would reset the thread's current event
    loop, which pytest-asyncio's session-scoped loop depends on, and a running
    loop (an async test calling ``kafka.start()``) cannot be re-entered.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="devinfra") as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


def child_pids(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc; empty where /proc is unavailable)."""
    children: list[int] = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name may contain spaces and parentheses; ppid follows the last ')'.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie (an init that never reaps must not hang us)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def stop_group(
    pgid: int,
    *,
    leader: subprocess.Popen[bytes] | None = None,
    sig: int = signal.SIGTERM,
    timeout: float = 15.0,
) -> bool:
    """Send ``sig`` to a group, wait up to ``timeout`` s, then SIGKILL it.

    Returns True when the group went away without SIGKILL. ``leader`` is our
    Popen for the group leader when we have one: it must be reaped, because a
    zombie still counts as a member of the group.
    """
    signal_group(pgid, sig)
    deadline = time.monotonic() + timeout
    graceful = _wait_group(pgid, leader, deadline)
    if not graceful:
        signal_group(pgid, signal.SIGKILL)
        _wait_group(pgid, leader, time.monotonic() + 10.0)
    return graceful


def _wait_group(pgid: int, leader: subprocess.Popen[bytes] | None, deadline: float) -> bool:
    while time.monotonic() < deadline:
        if leader is not None:
            leader.poll()
        # Our servers' groups hold just the leader (PostgreSQL children setsid()
        # away), and a dead leader may linger as a zombie: check the leader.
        if not pid_alive(pgid):
            return True
        time.sleep(0.05)
    return False


# --------------------------------------------------------------------------- cleanup registry


def track_group(pgid: int, cleanup_signal: int) -> None:
    """Remember a process group to kill if this process ends without stopping it."""
    with _lock:
        _install()
        _groups[pgid] = cleanup_signal
        _tell_watchdog(f"+group {pgid} {cleanup_signal}")


def untrack_group(pgid: int) -> None:
    with _lock:
        if _groups.pop(pgid, None) is not None:
            _tell_watchdog(f"-group {pgid}")


def track_dir(path: Path) -> None:
    """Remember a throw-away directory to delete at exit (after its servers are dead)."""
    with _lock:
        _install()
        _dirs.add(path)
        _tell_watchdog(f"+dir {path}")


def untrack_dir(path: Path) -> None:
    with _lock:
        if path in _dirs:
            _dirs.discard(path)
            _tell_watchdog(f"-dir {path}")


def cleanup_leftovers() -> None:
    """Kill every still-recorded group and delete every recorded directory."""
    with _lock:
        groups = dict(_groups)
        dirs = set(_dirs)
        _groups.clear()
        _dirs.clear()
    for pgid, sig in groups.items():
        signal_group(pgid, sig)
    deadline = time.monotonic() + 5.0
    while any(pid_alive(p) for p in groups) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pgid in groups:
        signal_group(pgid, signal.SIGKILL)
    for path in dirs:
        shutil.rmtree(path, ignore_errors=True)
    _close_watchdog()


def _install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    atexit.register(cleanup_leftovers)
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGHUP):
            # Respect a handler someone else installed on purpose (or SIG_IGN).
            if signal.getsignal(signum) is signal.SIG_DFL:
                _previous_handlers[signum] = signal.SIG_DFL
                signal.signal(signum, _on_fatal_signal)


def _on_fatal_signal(signum: int, _frame: FrameType | None) -> None:
    cleanup_leftovers()
    signal.signal(signum, _previous_handlers.get(signum, signal.SIG_DFL))
    # Re-deliver so the exit status still says "killed by SIGTERM".
    os.kill(os.getpid(), signum)


def _tell_watchdog(line: str) -> None:
    global _watchdog
    if _watchdog is None or _watchdog.poll() is not None:
        _watchdog = _spawn_watchdog()
        # A fresh watchdog knows nothing: replay the current state.
        lines = [f"+group {p} {s}" for p, s in _groups.items()] + [f"+dir {d}" for d in _dirs]
    else:
        lines = [line]
    if _watchdog is None or _watchdog.stdin is None:
        return
    try:
        _watchdog.stdin.write(("\n".join(lines) + "\n").encode())
        _watchdog.stdin.flush()
    except OSError:
        _watchdog = None


def _spawn_watchdog() -> subprocess.Popen[bytes] | None:
    src_dir = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src_dir, env.get("PYTHONPATH")]))
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "complaint_devinfra._watchdog", str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            # Own session: survives a kill of our process group and then cleans up.
            start_new_session=True,
        )
    except OSError:
        return None


def _close_watchdog() -> None:
    global _watchdog
    watchdog, _watchdog = _watchdog, None
    if watchdog is None:
        return
    with contextlib.suppress(OSError):
        if watchdog.stdin is not None:
            # Everything was cleaned up in-process: the watchdog must not signal
            # those (possibly reused) pids again when it sees EOF.
            watchdog.stdin.write(b"clear\n")
            watchdog.stdin.close()
    with contextlib.suppress(subprocess.TimeoutExpired):
        watchdog.wait(timeout=5)
