"""Intake's phases: the closed-loop load generator, the bare-endpoint baseline, intake's
durable accept throughput (with its row check) and the optional cProfile run (the drain of
the backlog is in drain.py)."""

from __future__ import annotations

import argparse
import pstats
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from common import BENCH_DIR, RUN_DIR, add_other, describe_cpu, quiesce, say, step
from loadgen import LoadResult, ensure_wrk, run_python, run_wrk
from pgwatch import ActivitySampler, value
from procs import UvicornProcess
from procstat import CpuSampler, Group


class Loader:
    """Runs the chosen closed-loop generator against one URL."""

    def __init__(self, args: argparse.Namespace, bodies: list[bytes]):
        self.args = args
        self.bodies = bodies
        # Where the next run starts in the rotation: a run re-posting what an earlier one
        # posted would send the same customers' same complaints again, which routing links
        # as duplicates instead of triaging and assigning them.
        self._next_body = 0
        self.wrk: str | None = None
        if args.loadgen in ("auto", "wrk"):
            self.wrk = ensure_wrk(allow_install=not args.no_install)
            if self.wrk is None and args.loadgen == "wrk":
                raise SystemExit("--loadgen wrk: wrk is not available (apt-get install wrk)")
        self.kind = "wrk" if self.wrk else "python"
        if self.kind == "python":
            say(
                "  load generator: python asyncio in the bench process -- NOTE: it competes "
                "with the servers for the same 2 cores"
            )
        else:
            say(
                f"  load generator: {self.wrk} ({args.wrk_threads} thread), C/epoll; it "
                "still shares the 2 cores with the servers (its CPU is reported)"
            )

    def take(self, n: int) -> list[bytes]:
        """The next ``n`` bodies of the rotation (for an open-loop run), consumed."""
        start = self._next_body % len(self.bodies)
        self._next_body = start + n
        return [self.bodies[(start + i) % len(self.bodies)] for i in range(n)]

    def run(self, url: str, headers: dict[str, str], duration_s: float) -> LoadResult:
        headers = {"Content-Type": "application/json", **headers}
        start = self._next_body % len(self.bodies)
        bodies = self.bodies[start:] + self.bodies[:start]
        if self.wrk:
            result = run_wrk(
                self.wrk,
                url=url,
                path="/v1/complaints",
                bodies=bodies,
                headers=headers,
                connections=self.args.connections,
                duration_s=duration_s,
                threads=self.args.wrk_threads,
            )
        else:
            result = run_python(
                url=url,
                path="/v1/complaints",
                bodies=bodies,
                headers=headers,
                connections=self.args.connections,
                duration_s=duration_s,
            )
        self._next_body = start + sum(result.statuses.values()) + self.args.connections
        return result


def describe_load(result: LoadResult) -> str:
    lat = result.latency_ms
    others = {k: v for k, v in result.statuses.items() if k != 201}
    errs = {k: v for k, v in result.errors.items() if v}
    return (
        f"{result.rate(201):,.0f} x 201/s over {result.duration_s:.1f} s "
        f"({result.count(201):,} answers 201"
        + (f", other statuses {others}" if others else "")
        + (f", socket errors {errs}" if errs else "")
        + f"); latency p50 {lat.get('p50', 0):.1f} ms, p99 {lat.get('p99', 0):.1f} ms"
    )


def measure(
    label: str,
    loader: Loader,
    url: str,
    headers: dict[str, str],
    args: argparse.Namespace,
    groups: list[Group],
    before_measure: Callable[[], None] = lambda: None,
    pg_watch: ActivitySampler | None = None,
) -> tuple[LoadResult, dict[str, float], dict[str, Any] | None]:
    step(f"{label}: warm-up {args.warmup:.0f} s at {args.connections} connections ...")
    if args.warmup > 0:
        warm = loader.run(url, headers, args.warmup)
        say(f"    warm-up: {describe_load(warm)}")
    time.sleep(1.0)  # let requests cut off by the end of the warm-up finish
    quiesce(groups)
    before_measure()
    step(f"{label}: measuring {args.duration:.0f} s at {args.connections} connections ...")
    sampler = CpuSampler(groups)
    if pg_watch is not None:
        pg_watch.start()
    sampler.start()
    result = loader.run(url, headers, args.duration)
    cpu = sampler.stop()
    activity = pg_watch.stop() if pg_watch is not None else None
    if loader.kind == "wrk":
        cpu["wrk"] = result.loadgen_cpu_pct
    add_other(cpu)
    say(f"    {describe_load(result)}")
    say(f"    {describe_cpu(cpu)}")
    return result, cpu, activity


def run_baseline(
    args: argparse.Namespace, loader: Loader, log_dir: Path, infra_groups: list[Group]
) -> tuple[LoadResult, dict[str, float]]:
    bare = UvicornProcess("bare", "bare_app:app", {}, log_dir, factory=False, app_dir=BENCH_DIR)
    step(f"baseline: bare FastAPI app (ComplaintIn, no I/O) on {bare.url} ...")
    try:
        bare.start()
        groups = [Group("bare uvicorn", lambda: [bare.pid]), *infra_groups]
        base, base_cpu, _ = measure("baseline", loader, bare.url, {}, args, groups)
    finally:
        bare.stop()
    return base, base_cpu


_COUNT_SQL = "SELECT count(*) FROM complaints"


def throughput(
    label: str,
    *,
    args: argparse.Namespace,
    loader: Loader,
    intake_url: str,
    intake_dsn: str,
    headers: dict[str, str],
    groups: list[Group],
) -> dict[str, Any]:
    """Closed-loop load on intake, then the check that every 201 is a stored row."""
    marks: dict[str, int] = {}

    def mark_rows() -> None:
        marks["before"] = value(intake_dsn, _COUNT_SQL)

    watch = ActivitySampler(intake_dsn, "intake")
    load, cpu, activity = measure(
        label, loader, intake_url, headers, args, groups, mark_rows, watch
    )
    time.sleep(2.0)  # requests cut off by wrk's end may still be committing
    rows_after = value(intake_dsn, _COUNT_SQL)
    stored = rows_after - marks["before"]
    say(
        f"    check: {load.count(201):,} answers 201 counted, {stored:,} complaint rows "
        f"stored in the measured window"
    )
    if load.drained:
        verdict = "equal" if stored == load.count(201) else "MISMATCH"
    else:
        gap = stored - load.count(201)
        verdict = (
            f"difference {gap} <= {args.connections} connections: requests in flight "
            "when wrk stopped were committed but their answers never read"
            if 0 <= gap <= args.connections
            else f"MISMATCH ({gap})"
        )
    say(f"    -> {verdict}")
    if activity:
        say("    intake's PostgreSQL connections, average number by state / wait event:")
        for state, n in activity["avg_connections_by_state"].items():
            say(f"      {n:5.2f}  {state}")
        for query, n in activity["lock_waits_by_statement"].items():
            say(f"      lock wait {n:5.2f} on: {query}")
    return {
        "result": load,
        "load": load.as_dict(),
        "cpu_pct": cpu,
        "rows_stored": stored,
        "rows_after": rows_after,
        "answers_201": load.count(201),
        "check": verdict,
        "pg_activity": activity,
    }


def profile_intake(
    args: argparse.Namespace,
    loader: Loader,
    env: dict[str, str],
    headers: dict[str, str],
    log_dir: Path,
) -> dict[str, Any]:
    out = RUN_DIR / "bench-intake.prof"
    out.unlink(missing_ok=True)
    profiled = UvicornProcess(
        "intake-profiled",
        "profiled_intake:create_app",
        {**env, "BENCH_PROFILE_OUT": str(out)},
        log_dir,
        app_dir=BENCH_DIR,
    )
    try:
        profiled.start()
        step(f"profile: intake under cProfile, {args.profile:.0f} s of load ...")
        httpx.post(f"{profiled.url}/__bench/profile/start", timeout=10)
        result = loader.run(profiled.url, headers, args.profile)
        httpx.post(f"{profiled.url}/__bench/profile/stop", timeout=60)
        say(f"    under the profiler: {describe_load(result)} (the profiler slows it down)")
    finally:
        profiled.stop()
    if not out.exists():
        say(f"    no profile was written (see {profiled.log_path})")
        return {"error": "no profile written"}
    stats = pstats.Stats(str(out))
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values()) or 1e-9
    by_area: dict[str, float] = {}
    rows = []
    for (filename, line, func), (_cc, nc, tt, ct, _callers) in raw.items():
        area = _area(filename, func)
        by_area[area] = by_area.get(area, 0.0) + tt
        rows.append((tt, ct, nc, f"{_short(filename)}:{line}({func})"))
    rows.sort(reverse=True)
    areas = sorted(by_area.items(), key=lambda kv: -kv[1])
    say(
        f"    where intake's event-loop thread spends its time (self time, {total:.1f} s "
        "profiled wall time; 'event loop wait' = idle in epoll):"
    )
    for area, tt in areas[:14]:
        say(f"      {100 * tt / total:5.1f}%  {area}")
    say("    top functions by self time:")
    for tt, _ct, nc, name in rows[:15]:
        say(f"      {100 * tt / total:5.1f}%  {nc:>9,} calls  {name[:90]}")
    return {
        "rate_201_under_profiler": round(result.rate(201), 1),
        "profiled_cpu_s": round(total, 2),
        "self_time_by_area_pct": {a: round(100 * t / total, 1) for a, t in areas[:20]},
        "top_self": [
            {"pct": round(100 * tt / total, 1), "calls": nc, "function": name}
            for tt, _ct, nc, name in rows[:25]
        ],
        "profile_file": str(out),
    }


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/src/", "/lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def _area(filename: str, func: str) -> str:
    if "site-packages/" in filename:
        return "lib: " + filename.split("site-packages/", 1)[1].split("/", 1)[0]
    for marker in ("/src/",):
        if marker in filename:
            return "project: " + filename.split(marker, 1)[1].split("/", 1)[0]
    if filename == "~":
        # C functions: name the most telling ones, group the rest.
        for key in ("select", "epoll", "poll", "run_until_complete", "run_forever"):
            if key in func:
                return "event loop wait (idle in epoll; uvloop run_* self time)"
        return "builtins / C calls"
    if "/lib/python3" in filename:
        return "stdlib: " + filename.split("/lib/python3", 1)[1].split("/", 2)[1]
    return filename
