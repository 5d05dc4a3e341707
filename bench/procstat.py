"""CPU use of processes and of the machine, read from /proc (psutil is not in the lockfile).

100 % means one core busy for the whole interval; the machine has ``os.cpu_count()`` cores.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        # The command name may contain spaces and parentheses; the fields follow the last ')'.
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def process_ticks(pid: int) -> int:
    """utime + stime of ``pid`` in clock ticks (0 when it is gone)."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0
    # After ')': state(0) ppid(1) ... utime(11) stime(12)
    return int(fields[11]) + int(fields[12])


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (PostgreSQL backends, for instance)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _stat_fields(int(stat.parent.name))
        if fields is not None:
            parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(parents.get(current, []))
    return found


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all cores together, from the first line of /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])  # guest time is already counted in user
    return total - idle, total


@dataclass
class Group:
    """A named set of processes whose CPU is added up (e.g. PostgreSQL and its backends)."""

    name: str
    pids: Callable[[], Iterable[int]]


class CpuSampler:
    """``start()`` then ``stop()``: CPU % of each group and of the machine in between."""

    def __init__(self, groups: list[Group]):
        self.groups = groups
        self._start: dict[str, dict[int, int]] = {}
        self._machine: tuple[int, int] = (0, 0)
        self._t0 = 0.0

    def _snapshot(self) -> dict[str, dict[int, int]]:
        return {g.name: {pid: process_ticks(pid) for pid in g.pids()} for g in self.groups}

    def start(self) -> None:
        self._start = self._snapshot()
        self._machine = machine_ticks()
        self._t0 = time.monotonic()

    def stop(self) -> dict[str, float]:
        """CPU % per group (100 = one core), plus ``machine`` (100 = every core busy)."""
        elapsed = max(time.monotonic() - self._t0, 1e-6)
        end = self._snapshot()
        result: dict[str, float] = {}
        for group in self.groups:
            before = self._start.get(group.name, {})
            # A process that started during the interval counts all its ticks.
            ticks = sum(t - before.get(pid, 0) for pid, t in end[group.name].items())
            result[group.name] = round(100.0 * ticks / CLK_TCK / elapsed, 1)
        busy0, total0 = self._machine
        busy1, total1 = machine_ticks()
        result["machine"] = round(100.0 * (busy1 - busy0) / max(total1 - total0, 1), 1)
        return result
