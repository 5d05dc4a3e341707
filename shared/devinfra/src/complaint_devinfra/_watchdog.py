"""Kills the servers of a parent that died without cleaning up (e.g. SIGKILL).

Started by ``_proc`` with a pipe on stdin. Lines: ``+group PGID SIG``,
``-group PGID``, ``+dir PATH``, ``-dir PATH``, ``clear``. At EOF -- the parent
exited, however it exited -- every group still listed gets its signal, then
SIGKILL after a grace period, and every listed directory is deleted.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import time


def _alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie leader (not yet reaped by init) is dead for our purposes
        with open(f"/proc/{pgid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def main() -> None:
    # The terminal's Ctrl-C is the parent's business; we act only at EOF.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    groups: dict[int, int] = {}
    dirs: set[str] = set()
    for raw in sys.stdin:
        parts = raw.strip().split(" ", 1)
        command, arg = parts[0], parts[1] if len(parts) > 1 else ""
        if command == "+group":
            pgid, sig = arg.split()
            groups[int(pgid)] = int(sig)
        elif command == "-group":
            groups.pop(int(arg), None)
        elif command == "+dir":
            dirs.add(arg)
        elif command == "-dir":
            dirs.discard(arg)
        elif command == "clear":
            groups.clear()
            dirs.clear()
    for pgid, sig in groups.items():
        with contextlib.suppress(OSError):
            os.killpg(pgid, sig)
    deadline = time.monotonic() + 5.0
    while any(_alive(p) for p in groups) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pgid in groups:
        with contextlib.suppress(OSError):
            os.killpg(pgid, signal.SIGKILL)
    for path in dirs:
        shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    main()
