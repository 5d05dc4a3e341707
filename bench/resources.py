"""What the drain costs: CPU seconds of each process group over an interval (from /proc
ticks) and each group's peak resident memory (the sum over its processes, sampled in a
small background thread), turned into CPU milliseconds per drained complaint.

RSS summed over PostgreSQL's processes counts its shared buffers once per backend that
touched them; PSS (proportional set size, shared pages split between the processes that map
them) is sampled too, and its sum is what the group really occupies."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from common import rss_mib, say
from procstat import CLK_TCK, Group, process_ticks

# The groups of the drain's cost table, in its order; "total" adds them up.
COST_GROUPS = ("intake", "routing", "sla-watch", "feedback", "notify", "postgres", "kafka")


def pss_mib(pid: int) -> float:
    """Proportional set size of one process (/proc/<pid>/smaps_rollup); 0 if gone."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


class ResourceSampler:
    """``start()`` then ``stop()``: CPU seconds per group in between, and peak RSS (MiB)
    per group, sampled every ``interval_s`` in a daemon thread."""

    def __init__(self, groups: list[Group], interval_s: float = 0.5):
        self.groups = groups
        self.interval_s = interval_s
        self.peak_rss: dict[str, float] = {g.name: 0.0 for g in groups}
        self.peak_pss: dict[str, float] = {g.name: 0.0 for g in groups}
        self.samples = 0
        self._start_ticks: dict[str, dict[int, int]] = {}
        self._t0 = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _ticks(self) -> dict[str, dict[int, int]]:
        return {g.name: {pid: process_ticks(pid) for pid in g.pids()} for g in self.groups}

    def _sample_rss(self) -> None:
        for group in self.groups:
            pids = list(group.pids())
            rss = sum(rss_mib(pid) for pid in pids)
            pss = sum(pss_mib(pid) for pid in pids)
            self.peak_rss[group.name] = max(self.peak_rss[group.name], rss)
            self.peak_pss[group.name] = max(self.peak_pss[group.name], pss)
        self.samples += 1

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample_rss()

    def start(self) -> None:
        self._start_ticks = self._ticks()
        self._t0 = time.monotonic()
        self._sample_rss()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> dict[str, Any]:
        """``{"seconds", "cpu_s": {group: s}, "peak_rss_mib": {group: MiB}, "samples"}``."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        elapsed = time.monotonic() - self._t0
        end = self._ticks()
        self._sample_rss()
        cpu_s = {}
        for group in self.groups:
            before = self._start_ticks.get(group.name, {})
            # A process that started during the interval counts all its ticks.
            ticks = sum(t - before.get(pid, 0) for pid, t in end[group.name].items())
            cpu_s[group.name] = round(ticks / CLK_TCK, 2)
        return {
            "seconds": round(elapsed, 1),
            "cpu_s": cpu_s,
            "peak_rss_mib": {k: round(v, 1) for k, v in self.peak_rss.items()},
            "peak_pss_mib": {k: round(v, 1) for k, v in self.peak_pss.items()},
            "samples": self.samples,
        }


def drain_costs(sampled: dict[str, Any], complaints: int) -> dict[str, Any]:
    """CPU ms per drained complaint and peak RSS of each COST_GROUPS group, plus the total
    CPU ms over all of them and the busiest one ("what limits it")."""
    cpu_s = sampled["cpu_s"]
    per = max(complaints, 1)
    cpu_ms = {name: round(1000 * cpu_s.get(name, 0.0) / per, 2) for name in COST_GROUPS}
    cpu_ms["total"] = round(sum(cpu_ms[name] for name in COST_GROUPS), 2)
    rss = {name: sampled["peak_rss_mib"].get(name, 0.0) for name in COST_GROUPS}
    rss["total"] = round(sum(rss.values()), 1)
    pss = {name: sampled["peak_pss_mib"].get(name, 0.0) for name in COST_GROUPS}
    pss["total"] = round(sum(pss.values()), 1)
    limit_name = max(COST_GROUPS, key=lambda n: cpu_s.get(n, 0.0))
    seconds = max(sampled["seconds"], 1e-9)
    return {
        "complaints": complaints,
        "cpu_ms_per_complaint": cpu_ms,
        "peak_rss_mib": rss,
        "peak_pss_mib": pss,
        "cpu_s": {name: cpu_s.get(name, 0.0) for name in COST_GROUPS},
        "busiest": {
            "group": limit_name,
            "cpu_s": cpu_s.get(limit_name, 0.0),
            "core_share_pct": round(100 * cpu_s.get(limit_name, 0.0) / seconds, 1),
        },
        "rss_samples": sampled["samples"],
    }


def describe_costs(drain: dict[str, Any], indent: str = "    ") -> None:
    """The drain's cost table: CPU ms per complaint and peak RSS per group."""
    cpu = drain.get("cpu_ms_per_complaint") or {}
    rss = drain.get("peak_rss_mib") or {}
    pss = drain.get("peak_pss_mib") or {}
    if not cpu:
        return
    complaints = drain.get("cost_complaints", 0)
    say(
        f"{indent}cost of the drain per complaint ({complaints:,} complaints, "
        f"{drain.get('seconds', 0)} s; peak RSS / PSS = sum over the group's processes, RSS "
        "counting shared memory once per process):"
    )
    say(f"{indent}  {'group':<10} {'CPU ms/complaint':>17} {'peak RSS MiB':>13} {'PSS MiB':>8}")
    for name in (*COST_GROUPS, "total"):
        say(
            f"{indent}  {name:<10} {cpu.get(name, 0):>17,.2f} {rss.get(name, 0):>13,.0f} "
            f"{pss.get(name, 0):>8,.0f}"
        )
    busiest = drain.get("cost_busiest") or {}
    if busiest:
        say(
            f"{indent}  what limits it: {busiest['group']} ({busiest['cpu_s']:.1f} CPU s, "
            f"{busiest['core_share_pct']:.0f}% of a core over the drain)"
        )
