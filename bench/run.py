"""`make bench`: intake's durable accept throughput against a bare FastAPI endpoint, and the
POST -> assigned latency, on a real Kafka and a real PostgreSQL (fsync on).

Everything it starts (Kafka, PostgreSQL, intake, routing, the bare app) is stopped at the
end, also on Ctrl-C or failure. Results go to stdout and to .run/bench-results.json.
Run ``bench/run.py --help`` for the options; each has a BENCH_* environment variable too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import pstats
import signal
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from complaint_contracts import topics  # noqa: E402
from complaint_contracts.topics import all_topics  # noqa: E402
from complaint_devinfra.infra import Infrastructure  # noqa: E402
from intake.cli import create_api_key, generate_keys  # noqa: E402
from latency import LatencyResult, run_latency  # noqa: E402
from loadgen import LoadResult, ensure_wrk, fixture_bodies, run_python, run_wrk  # noqa: E402
from pgwatch import ActivitySampler, plain_dsn, value  # noqa: E402
from procs import ROOT, UvicornProcess  # noqa: E402
from procstat import CpuSampler, Group, descendants  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "complaints.jsonl"
RUN_DIR = ROOT / ".run"
GOAL_RATE = 3000.0
GOAL_RATIO = 0.25


def say(message: str = "") -> None:
    print(message, flush=True)


def step(message: str) -> None:
    say(f"[{time.strftime('%H:%M:%S')}] {message}")


# ------------------------------------------------------------------------------ options


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="bench/run.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--quick",
        action="store_true",
        default=_env("BENCH_QUICK", "") in ("1", "true"),
        help="smoke run: 1 s warm-up, 3 s load, 3 s latency at 20/s (BENCH_QUICK=1)",
    )
    p.add_argument(
        "--duration",
        type=float,
        default=float(_env("BENCH_DURATION", "15")),
        help="seconds of measured closed-loop load per throughput figure (BENCH_DURATION, 15)",
    )
    p.add_argument(
        "--warmup",
        type=float,
        default=float(_env("BENCH_WARMUP", "3")),
        help="seconds of unmeasured load before each measurement (BENCH_WARMUP, 3)",
    )
    p.add_argument(
        "--connections",
        type=int,
        default=int(_env("BENCH_CONNECTIONS", "64")),
        help="concurrent keep-alive connections of the closed loop (BENCH_CONNECTIONS, 64)",
    )
    p.add_argument(
        "--loadgen",
        choices=("auto", "wrk", "python"),
        default=_env("BENCH_LOADGEN", "auto"),
        help="closed-loop generator; auto = wrk, installed with apt-get if missing, else "
        "python (BENCH_LOADGEN, auto)",
    )
    p.add_argument(
        "--wrk-threads",
        type=int,
        default=int(_env("BENCH_WRK_THREADS", "1")),
        help="wrk threads; 1 leaves the most CPU to the server (BENCH_WRK_THREADS, 1)",
    )
    p.add_argument(
        "--no-install", action="store_true", help="never apt-get install wrk (use python)"
    )
    p.add_argument(
        "--latency-rate",
        type=float,
        default=float(_env("BENCH_LATENCY_RATE", "50")),
        help="open-loop complaints/s of the latency figure (BENCH_LATENCY_RATE, 50)",
    )
    p.add_argument(
        "--latency-duration",
        type=float,
        default=float(_env("BENCH_LATENCY_DURATION", "20")),
        help="seconds of the latency run (BENCH_LATENCY_DURATION, 20)",
    )
    p.add_argument(
        "--drain-timeout",
        type=float,
        default=float(_env("BENCH_DRAIN_TIMEOUT", "300")),
        help="max seconds to wait for routing+projection to assign the throughput backlog "
        "(0 = skip) (BENCH_DRAIN_TIMEOUT, 300)",
    )
    p.add_argument(
        "--profile",
        type=float,
        default=float(_env("BENCH_PROFILE", "0")),
        help="extra phase: run intake under cProfile for this many seconds of load and print "
        "where its CPU goes (BENCH_PROFILE, 0 = off)",
    )
    p.add_argument(
        "--json",
        type=Path,
        default=Path(_env("BENCH_JSON", str(RUN_DIR / "bench-results.json"))),
        help="where to write the results (BENCH_JSON, .run/bench-results.json)",
    )
    args = p.parse_args(argv)
    if args.quick:
        args.duration = min(args.duration, 3.0)
        args.warmup = min(args.warmup, 1.0)
        args.latency_rate = min(args.latency_rate, 20.0)
        args.latency_duration = min(args.latency_duration, 3.0)
        args.drain_timeout = min(args.drain_timeout, 60.0)
    return args


# ------------------------------------------------------------------------------ helpers


def machine_info() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


class Loader:
    """Runs the chosen closed-loop generator against one URL."""

    def __init__(self, args: argparse.Namespace, bodies: list[bytes]):
        self.args = args
        self.bodies = bodies
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

    def run(self, url: str, headers: dict[str, str], duration_s: float) -> LoadResult:
        headers = {"Content-Type": "application/json", **headers}
        if self.wrk:
            return run_wrk(
                self.wrk,
                url=url,
                path="/v1/complaints",
                bodies=self.bodies,
                headers=headers,
                connections=self.args.connections,
                duration_s=duration_s,
                threads=self.args.wrk_threads,
            )
        return run_python(
            url=url,
            path="/v1/complaints",
            bodies=self.bodies,
            headers=headers,
            connections=self.args.connections,
            duration_s=duration_s,
        )


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


def describe_cpu(cpu: dict[str, float]) -> str:
    parts = [f"{k} {v:.0f}%" for k, v in cpu.items() if k != "machine"]
    return (
        "CPU (100% = one core): "
        + ", ".join(parts)
        + f"; machine {cpu.get('machine', 0):.0f}% of all cores"
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
    quiesce()
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


def quiesce(threshold_pct: float = 15.0, timeout_s: float = 20.0) -> None:
    """Wait (bounded) until the machine is nearly idle, e.g. Kafka's JIT after start-up."""
    deadline = time.monotonic() + timeout_s
    busy = 100.0
    while time.monotonic() < deadline:
        probe = CpuSampler([])
        probe.start()
        time.sleep(1.0)
        busy = probe.stop()["machine"]
        if busy < threshold_pct:
            return
    say(f"    note: machine still {busy:.0f}% busy before measuring (others' processes?)")


def add_other(cpu: dict[str, float]) -> None:
    """CPU of processes the bench did not start (another session's tests would show here)."""
    ours = sum(v for k, v in cpu.items() if k != "machine")
    cpu["other processes"] = round(max(cpu["machine"] * (os.cpu_count() or 1) - ours, 0.0), 1)


def busiest(cpu: dict[str, float]) -> tuple[str, float]:
    named = {k: v for k, v in cpu.items() if k != "machine"}
    name = max(named, key=lambda k: named[k])
    return name, named[name]


# ------------------------------------------------------------------------------ phases


def wait_for_pipeline(dsn: str, *, total_hint: int, timeout_s: float) -> dict[str, Any]:
    """Wait until every complaint is assigned and intake's outbox is empty."""
    started = time.monotonic()
    first = value(dsn, "SELECT count(*) FROM complaints WHERE status <> 'assigned'")
    next_report = started + 5
    remaining = first
    while time.monotonic() - started < timeout_s:
        remaining = value(dsn, "SELECT count(*) FROM complaints WHERE status <> 'assigned'")
        outbox = value(dsn, "SELECT count(*) FROM outbox_messages")
        if remaining == 0 and outbox == 0:
            break
        if time.monotonic() >= next_report:
            say(f"    {remaining:,} of {total_hint:,} not yet assigned, intake outbox {outbox:,}")
            next_report += 5
        time.sleep(0.25)
    elapsed = time.monotonic() - started
    drained = first - remaining
    return {
        "backlog_at_start": first,
        "left_unassigned": remaining,
        "seconds": round(elapsed, 1),
        "assigned_per_s": round(drained / elapsed, 1) if elapsed > 0 else 0.0,
        "complete": remaining == 0,
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


# ------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM behaves like Ctrl-C so that the finally blocks stop everything.
    signal.signal(signal.SIGTERM, _interrupt)
    RUN_DIR.mkdir(exist_ok=True)
    log_dir = RUN_DIR / "bench" / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    started_at = datetime.now(UTC)
    info = machine_info()
    say("=" * 78)
    say("complaint platform bench: intake durable accept throughput and POST->assigned latency")
    say("=" * 78)
    say(
        f"machine: {info['cores']} cores ({info['cpu']}), {info['memory_gib']} GiB, "
        f"Python {info['python']}, Linux {info['kernel']}"
    )
    say(
        f"settings: closed loop {args.connections} connections, {args.warmup:.0f} s warm-up + "
        f"{args.duration:.0f} s measured; latency {args.latency_rate:.0f}/s open loop for "
        f"{args.latency_duration:.0f} s{'; QUICK smoke run' if args.quick else ''}"
    )
    bodies = fixture_bodies(FIXTURES)
    say(f"bodies: {len(bodies)} fixture complaints (expected labels stripped), rotated")

    results: dict[str, Any] = {
        "started_at": started_at.isoformat(),
        "machine": info,
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
    }
    step("load generator ...")
    loader = Loader(args, bodies)
    results["loadgen"] = loader.kind

    infra = Infrastructure(postgres_fsync=True)
    services: list[UvicornProcess] = []
    exit_code = 0
    try:
        step("starting Kafka and PostgreSQL (fsync on) ...")
        infra.start()
        kafka, postgres = infra.kafka, infra.postgres
        kafka.create_topics([(t.name, t.partitions) for t in all_topics()])
        urls = {name: postgres.create_database(name) for name in ("intake", "routing")}
        intake_dsn = plain_dsn(urls["intake"])
        durability = {
            name: value(intake_dsn, f"SHOW {name}")
            for name in ("fsync", "synchronous_commit", "wal_sync_method", "full_page_writes")
        }
        say(f"    PostgreSQL durability: {durability}")
        results["postgres_settings"] = durability

        def pg_pids() -> list[int]:
            pid = getattr(postgres, "pid", None)
            return descendants(pid) if pid else []

        def kafka_pids() -> list[int]:
            pid = getattr(kafka, "pid", None)
            return descendants(pid) if pid else []

        # ---- 1. baseline --------------------------------------------------------------
        bare = UvicornProcess("bare", "bare_app:app", {}, log_dir, factory=False, app_dir=BENCH_DIR)
        services.append(bare)
        step(f"baseline: bare FastAPI app (ComplaintIn, no I/O) on {bare.url} ...")
        bare.start()
        bare_groups = [
            Group("bare uvicorn", lambda: [bare.pid]),
            Group("postgres", pg_pids),
            Group("kafka", kafka_pids),
            Group("bench", _self),
        ]
        base, base_cpu, _ = measure("baseline", loader, bare.url, {}, args, bare_groups)
        bare.stop()
        results["baseline"] = {"load": base.as_dict(), "cpu_pct": base_cpu}

        # ---- services -----------------------------------------------------------------
        step("creating the API key and starting intake and routing (uvicorn, 1 worker) ...")
        keys = generate_keys()
        api_key = asyncio.run(
            create_api_key(database_url=urls["intake"], label="bench", channels=["*"])
        )
        common = {"KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers, "LOG_JSON": "true", **keys}
        intake_env = {**common, "SERVICE_NAME": "intake", "DATABASE_URL": urls["intake"]}
        intake = UvicornProcess("intake", "intake.main:create_app", intake_env, log_dir)
        routing = UvicornProcess(
            "routing",
            "routing.main:create_app",
            {**common, "SERVICE_NAME": "routing", "DATABASE_URL": urls["routing"]},
            log_dir,
        )
        services += [intake, routing]
        intake.start()
        routing.start()
        say(f"    intake {intake.url} (pid {intake.pid}), routing pid {routing.pid}")
        groups = [
            Group("intake", lambda: [intake.pid]),
            Group("routing", lambda: [routing.pid]),
            Group("postgres", pg_pids),
            Group("kafka", kafka_pids),
            Group("bench", _self),
        ]
        headers = {"X-API-Key": api_key}

        # ---- 3. latency (on a quiet pipeline, before the throughput backlog) ------------
        step("pipeline warm-up: one complaint per fixture, each until assigned ...")
        warm = asyncio.run(
            run_latency(
                intake_url=intake.url,
                api_key=api_key,
                bootstrap_servers=kafka.bootstrap_servers,
                topic=topics.ROUTING.name,
                bodies=bodies,
                rate_per_s=20,
                duration_s=len(bodies) / 20,
                progress=say,
            )
        )
        say(
            f"    {warm.assigned_visible}/{warm.sent} assigned and visible "
            f"(p50 {warm.visible_ms.get('p50', 0):.0f} ms)"
        )
        if warm.assigned_visible != warm.sent:
            raise RuntimeError(f"pipeline warm-up failed: {warm.errors}")
        step(
            f"latency: {args.latency_rate:.0f} complaints/s open loop for "
            f"{args.latency_duration:.0f} s, POST -> assigned visible in GET ..."
        )
        cpu_lat = CpuSampler(groups)
        cpu_lat.start()
        lat = asyncio.run(
            run_latency(
                intake_url=intake.url,
                api_key=api_key,
                bootstrap_servers=kafka.bootstrap_servers,
                topic=topics.ROUTING.name,
                bodies=bodies,
                rate_per_s=args.latency_rate,
                duration_s=args.latency_duration,
                progress=say,
            )
        )
        lat_cpu = cpu_lat.stop()
        add_other(lat_cpu)
        say(
            f"    {lat.sent} sent (achieved {lat.achieved_rate_per_s}/s), {lat.accepted} "
            f"accepted, {lat.assigned_event} assigned events, {lat.assigned_visible} visible, "
            f"{lat.confirmed_by_get} confirmed by the final GET; {lat.get_requests} polling GETs"
        )
        say(f"    POST answer  : {_fmt_pct(lat.post_ms)}")
        say(f"    assigned event on Kafka: {_fmt_pct(lat.event_ms)}")
        say(f"    assigned visible in GET: {_fmt_pct(lat.visible_ms)}")
        say(f"    {describe_cpu(lat_cpu)}")
        if lat.errors:
            say(f"    errors: {lat.errors[:5]}")
        results["latency"] = {**lat.as_dict(), "cpu_pct": lat_cpu}

        # ---- 2. intake throughput --------------------------------------------------------
        count_sql = "SELECT count(*) FROM complaints"
        marks: dict[str, int] = {}

        def mark_rows() -> None:
            marks["before"] = value(intake_dsn, count_sql)

        watch = ActivitySampler(intake_dsn, "intake")
        thr, thr_cpu, activity = measure(
            "intake", loader, intake.url, headers, args, groups, mark_rows, watch
        )
        time.sleep(2.0)  # requests cut off by wrk's end may still be committing
        rows_after = value(intake_dsn, count_sql)
        stored = rows_after - marks["before"]
        say(
            f"    check: {thr.count(201):,} answers 201 counted, {stored:,} complaint rows "
            f"stored in the measured window"
        )
        if thr.drained:
            verdict = "equal" if stored == thr.count(201) else "MISMATCH"
        else:
            gap = stored - thr.count(201)
            verdict = (
                f"difference {gap} <= {args.connections} connections: requests in flight when "
                "wrk stopped were committed but their answers never read"
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
        results["intake"] = {
            "load": thr.as_dict(),
            "cpu_pct": thr_cpu,
            "rows_stored": stored,
            "answers_201": thr.count(201),
            "check": verdict,
            "pg_activity": activity,
        }

        # ---- drain: routing + projection catching up -------------------------------------
        if args.drain_timeout > 0:
            step("drain: waiting for routing and intake's projection to assign the backlog ...")
            cpu_drain = CpuSampler(groups)
            cpu_drain.start()
            drain = wait_for_pipeline(
                intake_dsn, total_hint=rows_after, timeout_s=args.drain_timeout
            )
            drain["cpu_pct"] = cpu_drain.stop()
            add_other(drain["cpu_pct"])
            say(
                f"    {drain['backlog_at_start']:,} unassigned at start, "
                f"{drain['left_unassigned']:,} left after {drain['seconds']} s: "
                f"{drain['assigned_per_s']:,} assigned/s"
                + ("" if drain["complete"] else " (timed out)")
            )
            say(f"    {describe_cpu(drain['cpu_pct'])}")
            results["drain"] = drain

        if args.profile > 0:
            intake.stop()
            results["profile"] = profile_intake(args, loader, intake_env, headers, log_dir)

        summarize(results, base, base_cpu, thr, thr_cpu, lat, lat_cpu, activity, args)
    except KeyboardInterrupt:
        say("\ninterrupted: stopping everything ...")
        exit_code = 130
    except Exception as exc:
        say(f"\nbench FAILED: {exc!r}")
        for service in services:
            tail = service.log_tail(15)
            if tail:
                say(f"--- {service.name} log tail ({service.log_path}) ---\n{tail}")
        results["error"] = repr(exc)
        exit_code = 1
    finally:
        with contextlib.suppress(KeyboardInterrupt):
            for service in reversed(services):
                service.stop()
            infra.stop()
            step("stopped intake, routing, the bare app, Kafka and PostgreSQL")
    results["finished_at"] = datetime.now(UTC).isoformat()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    say(f"results written to {args.json}")
    return exit_code


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _self() -> list[int]:
    return [os.getpid()]


def _fmt_pct(p: dict[str, float]) -> str:
    if not p:
        return "n/a"
    return ", ".join(f"{k} {p[k]:,.0f} ms" for k in ("p50", "p90", "p99", "max") if k in p)


def summarize(
    results: dict[str, Any],
    base: LoadResult,
    base_cpu: dict[str, float],
    thr: LoadResult,
    thr_cpu: dict[str, float],
    lat: LatencyResult,
    lat_cpu: dict[str, float],
    activity: dict[str, Any] | None,
    args: argparse.Namespace,
) -> None:
    ratio = thr.rate(201) / base.rate(201) if base.rate(201) else 0.0
    b_name, b_cpu = busiest(base_cpu)
    i_name, i_cpu = busiest(thr_cpu)
    lg = "wrk" if "wrk" in thr_cpu else "bench"
    base_limit = (
        f"bare uvicorn {base_cpu.get('bare uvicorn', 0):.0f}% of a core (one worker can use "
        f"one core at most); load generator {base_cpu.get('wrk', base_cpu.get('bench', 0)):.0f}%"
        f"; busiest: {b_name} {b_cpu:.0f}%"
    )
    waits = (activity or {}).get("avg_connections_by_state", {})
    lock_wait = sum(v for k, v in waits.items() if "Lock:" in k)
    in_tx_idle = sum(v for k, v in waits.items() if k.startswith("idle in transaction"))
    wal = sum(v for k, v in waits.items() if "WAL" in k)
    intake_limit = (
        f"{i_name} at {i_cpu:.0f}% of a core; postgres {thr_cpu.get('postgres', 0):.0f}%, "
        f"{lg} {thr_cpu.get(lg, 0):.0f}%, machine {thr_cpu.get('machine', 0):.0f}%; "
        f"of intake's DB connections on average {lock_wait:.1f} wait on a row lock, "
        f"{in_tx_idle:.1f} idle in transaction (waiting for intake), {wal:.1f} on WAL"
    )
    visible = lat.visible_ms
    lat_limit = (
        f"pipeline hops (outbox relay -> Kafka -> routing -> outbox -> Kafka -> intake "
        f"projection); event p50 {lat.event_ms.get('p50', 0):.0f} ms, then projection; "
        f"intake {lat_cpu.get('intake', 0):.0f}% / routing {lat_cpu.get('routing', 0):.0f}% CPU"
    )
    rows = [
        (
            "bare FastAPI POST (baseline)",
            f"{base.rate(201):,.0f}/s",
            "-",
            "-",
            base_limit,
        ),
        (
            "intake durable accept",
            f"{thr.rate(201):,.0f}/s",
            f"{base.rate(201):,.0f}/s",
            f"{100 * ratio:.1f}%",
            intake_limit,
        ),
        (
            f"POST->assigned p50 @{lat.achieved_rate_per_s:.0f}/s",
            f"{visible.get('p50', 0):,.0f} ms",
            "-",
            "-",
            lat_limit,
        ),
        (
            "POST->assigned p90 / p99 / max",
            f"{visible.get('p90', 0):,.0f} / {visible.get('p99', 0):,.0f} / "
            f"{visible.get('max', 0):,.0f} ms",
            "-",
            "-",
            f"{lat.assigned_visible}/{lat.accepted} assigned and visible",
        ),
    ]
    drain = results.get("drain")
    if drain:
        rows.append(
            (
                "backlog assigned (routing+projection)",
                f"{drain['assigned_per_s']:,.0f}/s",
                f"{thr.rate(201):,.0f}/s",
                f"{100 * drain['assigned_per_s'] / max(thr.rate(201), 1e-9):.0f}%",
                "routing {routing:.0f}%, intake {intake:.0f}%, postgres {postgres:.0f}% CPU".format(
                    **{k: drain["cpu_pct"].get(k, 0) for k in ("routing", "intake", "postgres")}
                ),
            )
        )
    say()
    say("=" * 78)
    say("SUMMARY")
    say("=" * 78)
    widths = (38, 20, 12, 7)
    head = ("figure", "value", "baseline", "ratio")
    say("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    say("-" * 82)
    for figure, val, baseline, rat, limit in rows:
        say(
            "  ".join(c.ljust(w) for c, w in zip((figure, val, baseline, rat), widths, strict=True))
        )
        say(f"    what limits it: {limit}")
    say("-" * 82)
    reached_rate = thr.rate(201) >= GOAL_RATE
    reached_ratio = ratio >= GOAL_RATIO
    say(
        f"goal >= {GOAL_RATE:,.0f} complaints/s on 2 cores: "
        f"{'REACHED' if reached_rate else 'NOT reached'} ({thr.rate(201):,.0f}/s)"
    )
    say(
        f"goal >= {100 * GOAL_RATIO:.0f}% of the bare endpoint: "
        f"{'REACHED' if reached_ratio else 'NOT reached'} ({100 * ratio:.1f}%)"
    )
    say(
        f"load generator: {thr.tool}, on the same 2 cores as the servers"
        + ("" if args.loadgen != "python" and "wrk" in thr.tool else " (it competes for CPU)")
    )
    say(f"latency method: {lat.method}")
    if lat.post_ms.get("p50", 0) > 1000:
        say(
            f"NOTE: POST answers took p50 {lat.post_ms['p50']:,.0f} ms at "
            f"{lat.achieved_rate_per_s:.0f}/s: intake did not keep up with the offered rate, so "
            "the latency figure is mostly queueing in front of intake"
        )
    disturbed = {
        name: cpu.get("other processes", 0.0)
        for name, cpu in (("baseline", base_cpu), ("intake", thr_cpu), ("latency", lat_cpu))
        if cpu.get("other processes", 0.0) > 20
    }
    if disturbed:
        say(
            "WARNING: processes the bench did not start used CPU while it measured "
            + ", ".join(f"{k} {v:.0f}% of a core" for k, v in disturbed.items())
            + ": another workload shares this machine, so these figures are lower and noisier "
            "than on an otherwise idle machine; run again on a quiet machine"
        )
    results["disturbed_by_other_processes_cpu_pct"] = disturbed
    results["summary"] = {
        "baseline_per_s": round(base.rate(201), 1),
        "intake_per_s": round(thr.rate(201), 1),
        "ratio": round(ratio, 4),
        "latency_visible_ms": visible,
        "latency_event_ms": lat.event_ms,
        "latency_load_per_s": lat.achieved_rate_per_s,
        "goal_rate_reached": reached_rate,
        "goal_ratio_reached": reached_ratio,
        "what_limits": {
            "baseline": base_limit,
            "intake": intake_limit,
            "latency": lat_limit,
        },
    }


if __name__ == "__main__":
    raise SystemExit(main())
