"""`make bench`: intake's durable accept throughput against a bare FastAPI endpoint, the
POST -> assigned latency and the POST -> acknowledgement e-mail latency, with all five
services (intake, routing, sla-watch, feedback, notify) on a real Kafka, a real PostgreSQL
(fsync on) and an SMTP sink (aiosmtpd) in the bench process.

Everything it starts (Kafka, PostgreSQL, the services, the bare app, the SMTP sink) is
stopped at the end, also on Ctrl-C or failure. Results go to stdout and to
.run/bench-results.json. Run ``bench/run.py --help`` for the options; each has a BENCH_*
environment variable too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import pstats
import secrets
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
from latency import LatencyResult, percentiles_ms, run_latency  # noqa: E402
from loadgen import LoadResult, ensure_wrk, fixture_bodies, run_python, run_wrk  # noqa: E402
from mailsink import MailSink  # noqa: E402
from pgwatch import ActivitySampler, fetch_rows, plain_dsn, value  # noqa: E402
from procs import ROOT, UvicornProcess  # noqa: E402
from procstat import CpuSampler, Group, descendants  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "complaints.jsonl"
RUN_DIR = ROOT / ".run"
GOAL_RATE = 3000.0
GOAL_RATIO = 0.25

# The integration suite's platform (tests/integration/conftest.py), except that every SLA
# target is days long, so no warning or breach fires during the bench.
SERVICES = {  # name -> app factory
    "intake": "intake.main:create_app",
    "routing": "routing.main:create_app",
    "sla-watch": "sla_watch.main:create_app",
    "feedback": "feedback.main:create_app",
    "notify": "notify.main:create_app",
}
TEAMS = (
    "quality",
    "service",
    "logistics",
    "billing",
    "privacy",
    "tech-support",
    "policy",
    "general",
)
SLA_FIRST_RESPONSE_TARGETS_S = {"P1": 86_400, "P2": 172_800, "P3": 259_200, "P4": 345_600}
SLA_RESOLUTION_TARGETS_S = {"P1": 604_800, "P2": 864_000, "P3": 1_209_600, "P4": 1_728_000}


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
        help="smoke run: 1 s warm-up, 3 s load, 3 s latency at 20/s, at most 60 s waiting "
        "for a quiet machine (BENCH_QUICK=1)",
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
        default=float(_env("BENCH_LATENCY_RATE", "20")),
        help="open-loop complaints/s of the latency figures (BENCH_LATENCY_RATE, 20)",
    )
    p.add_argument(
        "--latency-duration",
        type=float,
        default=float(_env("BENCH_LATENCY_DURATION", "20")),
        help="seconds of the latency run (BENCH_LATENCY_DURATION, 20)",
    )
    p.add_argument(
        "--ack-timeout",
        type=float,
        default=float(_env("BENCH_ACK_TIMEOUT", "90")),
        help="max seconds after the last POST to wait for the acknowledgement e-mails "
        "(BENCH_ACK_TIMEOUT, 90)",
    )
    p.add_argument(
        "--quiet-load",
        type=float,
        default=float(_env("BENCH_QUIET_LOAD", "1.0")),
        help="before starting anything, wait until the 1-minute load average is below this "
        "(BENCH_QUIET_LOAD, 1.0)",
    )
    p.add_argument(
        "--quiet-wait",
        type=float,
        default=float(_env("BENCH_QUIET_WAIT", "300")),
        help="max seconds to wait for that (0 = do not wait) (BENCH_QUIET_WAIT, 300)",
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
        args.quiet_wait = min(args.quiet_wait, 60.0)
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


def quiesce(
    groups: list[Group] | None = None, threshold_pct: float = 15.0, timeout_s: float = 20.0
) -> None:
    """Wait (bounded) until the machine is nearly idle, e.g. Kafka's JIT after start-up."""
    deadline = time.monotonic() + timeout_s
    cpu: dict[str, float] = {"machine": 100.0}
    while time.monotonic() < deadline:
        probe = CpuSampler(groups or [])
        probe.start()
        time.sleep(1.0)
        cpu = probe.stop()
        if cpu["machine"] < threshold_pct:
            return
    add_other(cpu)
    ours = {k: v for k, v in cpu.items() if k not in ("machine", "other processes") and v >= 5}
    say(
        f"    note: machine still {cpu['machine']:.0f}% busy before measuring: processes the "
        f"bench did not start {cpu['other processes']:.0f}% of a core"
        + (f", ours {ours}" if ours else "")
    )


def loadavg() -> tuple[float, float, float]:
    one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
    return float(one), float(five), float(fifteen)


def wait_for_quiet_machine(threshold: float, max_wait_s: float) -> dict[str, Any]:
    """Other test runs share this machine: before starting anything, wait (bounded) until
    the 1-minute load average is below ``threshold``."""
    started = time.monotonic()
    first = loadavg()
    say(
        f"    load average now {first[0]:.2f} / {first[1]:.2f} / {first[2]:.2f} (1/5/15 min); "
        f"waiting until the 1-minute figure is below {threshold:.2f}, at most {max_wait_s:.0f} s"
    )
    current = first
    next_report = started + 30
    while current[0] >= threshold and time.monotonic() - started < max_wait_s:
        time.sleep(5)
        current = loadavg()
        if time.monotonic() >= next_report:
            say(f"    ... {time.monotonic() - started:.0f} s: 1-minute load {current[0]:.2f}")
            next_report += 30
    waited = time.monotonic() - started
    quiet = current[0] < threshold
    say(
        f"    waited {waited:.0f} s: 1-minute load {current[0]:.2f} "
        + ("(quiet)" if quiet else f"-- still >= {threshold:.2f}, measuring anyway")
    )
    return {
        "threshold": threshold,
        "load_at_start": first,
        "load_when_started": current,
        "waited_s": round(waited, 1),
        "quiet": quiet,
    }


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
    say("complaint platform bench: intake durable accept throughput, POST->assigned and")
    say("POST->acknowledgement e-mail latency, all five services")
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
    if args.quiet_wait > 0:
        step("waiting for a quiet machine (other test runs share it) ...")
        results["quiet_wait"] = wait_for_quiet_machine(args.quiet_load, args.quiet_wait)

    infra = Infrastructure(postgres_fsync=True)
    services: list[UvicornProcess] = []
    mail = MailSink()
    exit_code = 0
    try:
        step("starting Kafka and PostgreSQL (fsync on) ...")
        infra.start()
        kafka, postgres = infra.kafka, infra.postgres
        kafka.create_topics([(t.name, t.partitions) for t in all_topics()])
        urls = {name: postgres.create_database(name.replace("-", "_")) for name in SERVICES}
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
        step("creating the API key, starting the SMTP sink and the five services ...")
        keys = generate_keys()
        api_key = asyncio.run(
            create_api_key(database_url=urls["intake"], label="bench", channels=["*"])
        )
        mail.start()
        say(f"    SMTP sink (aiosmtpd, in the bench process) on 127.0.0.1:{mail.port}")
        procs = {
            name: UvicornProcess(name, factory, {}, log_dir) for name, factory in SERVICES.items()
        }
        for name, proc in procs.items():
            proc.env = {
                **common_env(kafka.bootstrap_servers),
                **per_service_env(
                    name, keys=keys, mail_port=mail.port, urls={n: p.url for n, p in procs.items()}
                ),
                "SERVICE_NAME": name,
                "DATABASE_URL": urls[name],
            }
        services += list(procs.values())
        for proc in procs.values():
            proc.start()
        intake = procs["intake"]
        intake_env = intake.env
        say(
            "    "
            + ", ".join(f"{name} pid {proc.pid}" for name, proc in procs.items())
            + f"; intake on {intake.url}"
        )
        groups = [Group(name, _pid_of(proc)) for name, proc in procs.items()] + [
            Group("postgres", pg_pids),
            Group("kafka", kafka_pids),
            Group("bench", _self),
        ]
        headers = {"X-API-Key": api_key}

        # ---- 3. latency (on a quiet pipeline, before the throughput backlog) ------------
        step("pipeline warm-up: one complaint per fixture, each until assigned and acknowledged")
        run_tag = secrets.token_hex(3)
        warm = asyncio.run(
            run_latency(
                intake_url=intake.url,
                api_key=api_key,
                bootstrap_servers=kafka.bootstrap_servers,
                topic=topics.ROUTING.name,
                intake_topic=topics.INTAKE.name,
                bodies=bodies,
                rate_per_s=20,
                duration_s=len(bodies) / 20,
                progress=say,
                mail=mail,
                email_prefix=f"warm-{run_tag}",
                ack_timeout_s=args.ack_timeout,
            )
        )
        say(
            f"    {warm.assigned_visible}/{warm.sent} assigned and visible "
            f"(p50 {warm.visible_ms.get('p50', 0):.0f} ms), {warm.acks_arrived}/"
            f"{warm.acks_expected} acknowledgements (p50 {warm.ack_ms.get('p50', 0):.0f} ms)"
        )
        if warm.assigned_visible != warm.sent:
            raise RuntimeError(f"pipeline warm-up failed: {warm.errors}")
        if warm.acks_arrived != warm.acks_expected:
            raise RuntimeError(
                f"warm-up: {warm.acks_expected - warm.acks_arrived} acknowledgements missing "
                f"(see {procs['notify'].log_path})"
            )
        quiesce(groups)
        step(
            f"latency: {args.latency_rate:.0f} complaints/s open loop for "
            f"{args.latency_duration:.0f} s, POST -> assigned visible in GET and POST -> "
            "acknowledgement e-mail accepted by the SMTP sink ..."
        )
        mono_to_wall = time.time() - time.monotonic()
        mail_before = mail.snapshot()
        cpu_lat = CpuSampler(groups)
        cpu_lat.start()
        lat = asyncio.run(
            run_latency(
                intake_url=intake.url,
                api_key=api_key,
                bootstrap_servers=kafka.bootstrap_servers,
                topic=topics.ROUTING.name,
                intake_topic=topics.INTAKE.name,
                bodies=bodies,
                rate_per_s=args.latency_rate,
                duration_s=args.latency_duration,
                progress=say,
                mail=mail,
                email_prefix=f"lat-{run_tag}",
                ack_timeout_s=args.ack_timeout,
            )
        )
        lat_cpu = cpu_lat.stop()
        add_other(lat_cpu)
        mail_after = mail.snapshot()
        say(
            f"    {lat.sent} sent (achieved {lat.achieved_rate_per_s}/s), {lat.accepted} "
            f"accepted, {lat.assigned_event} assigned events, {lat.assigned_visible} visible, "
            f"{lat.confirmed_by_get} confirmed by the final GET; {lat.get_requests} polling GETs"
        )
        missing = lat.acks_expected - lat.acks_arrived
        say(
            f"    acknowledgements: {lat.acks_arrived}/{lat.acks_expected} arrived at the SMTP "
            f"sink, {missing} missing"
            + (f" (e.g. complaints {lat.acks_missing[:5]})" if missing else "")
            + f", {lat.acks_duplicated} customers got more than one mail; the bench waited "
            f"{lat.ack_wait_s} s after the last POST; the sink took "
            f"{mail_after['messages'] - mail_before['messages']} messages in the window "
            f"(staff notices included)"
        )
        say(f"    POST answer  : {_fmt_pct(lat.post_ms)}")
        say(f"    received event on Kafka: {_fmt_pct(lat.received_event_ms)}")
        say(f"    assigned event on Kafka: {_fmt_pct(lat.event_ms)}")
        say(f"    assigned visible in GET: {_fmt_pct(lat.visible_ms)}")
        say(f"    ack e-mail accepted by SMTP: {_fmt_pct(lat.ack_ms)}")
        ack_stages = ack_breakdown(lat, plain_dsn(urls["notify"]), mono_to_wall)
        if ack_stages:
            say("    where the acknowledgement's time goes (per complaint, then percentiles):")
            for stage, pct in ack_stages["stages_ms"].items():
                say(f"      {stage:<48} {_fmt_pct(pct)}")
            say(
                f"      notify rounds: {ack_stages['claims']} claims in "
                f"{ack_stages['claim_rounds']} rounds, mean batch {ack_stages['mean_batch']}"
            )
        say(f"    {describe_cpu(lat_cpu)}")
        if lat.errors:
            say(f"    errors: {lat.errors[:5]}")
        results["latency"] = {
            **lat.as_dict(),
            "acks_missing_count": missing,
            "ack_breakdown": ack_stages,
            "mail_sink": mail_after,
            "cpu_pct": lat_cpu,
        }

        # ---- 2. intake throughput --------------------------------------------------------
        count_sql = "SELECT count(*) FROM complaints"

        def throughput(label: str, phase_groups: list[Group]) -> dict[str, Any]:
            marks: dict[str, int] = {}

            def mark_rows() -> None:
                marks["before"] = value(intake_dsn, count_sql)

            watch = ActivitySampler(intake_dsn, "intake")
            load, cpu, activity = measure(
                label, loader, intake.url, headers, args, phase_groups, mark_rows, watch
            )
            time.sleep(2.0)  # requests cut off by wrk's end may still be committing
            rows_after = value(intake_dsn, count_sql)
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

        full = throughput("intake (all five services running)", groups)
        thr, thr_cpu, activity = full.pop("result"), full["cpu_pct"], full["pg_activity"]
        rows_after = full.pop("rows_after")
        results["intake"] = full

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

        # ---- 2b. intake alone: the four other services stopped --------------------------
        # With all five running, the others consume the same backlog on the same 2 cores
        # (and notify looks up every complaint's contact at intake). Measured again without
        # them, the difference is what that contention costs intake.
        step("stopping routing, sla-watch, feedback and notify to measure intake alone ...")
        for name in ("notify", "feedback", "sla-watch", "routing"):
            procs[name].stop()
        alone_groups = [g for g in groups if g.name not in SERVICES or g.name == "intake"]
        alone = throughput("intake alone (the other four stopped)", alone_groups)
        alone.pop("result")
        alone.pop("rows_after")
        results["intake_alone"] = alone

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
            mail.stop()
            infra.stop()
            step("stopped the five services, the bare app, the SMTP sink, Kafka and PostgreSQL")
    results["finished_at"] = datetime.now(UTC).isoformat()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    say(f"results written to {args.json}")
    return exit_code


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _self() -> list[int]:
    return [os.getpid()]


def _pid_of(proc: UvicornProcess) -> Callable[[], list[int]]:
    return lambda: [proc.pid] if proc.process is not None else []


def common_env(bootstrap_servers: str) -> dict[str, str]:
    """What tests/integration/conftest.py gives every service (one JWT secret per run)."""
    return {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
        "AUTH_JWT_SECRET": _JWT_SECRET,
        "LOG_JSON": "true",
        "OUTBOX_POLL_INTERVAL_S": "0.2",
        "CONSUMER_RETRY_BACKOFF_S": "0.05",
        "RETRY_AFTER_S": "2",
        "DB_STATEMENT_TIMEOUT_S": "3",
        "CONSUMER_SESSION_TIMEOUT_MS": "6000",
    }


_JWT_SECRET = secrets.token_urlsafe(32)


def per_service_env(
    name: str, *, keys: dict[str, str], mail_port: int, urls: dict[str, str]
) -> dict[str, str]:
    """Each service's own variables, as in tests/integration/conftest.py (long SLA targets)."""
    if name == "intake":
        return dict(keys)  # CONTACT_ENCRYPTION_KEY, CUSTOMER_REF_KEY
    if name == "routing":
        agents = [
            {"id": f"agent-{t}", "team": t, "level": "senior", "capacity": 10_000} for t in TEAMS
        ]
        return {"ROUTING_AGENTS": json.dumps(agents)}
    if name == "sla-watch":
        return {
            "SLA_FIRST_RESPONSE_TARGETS_S": json.dumps(SLA_FIRST_RESPONSE_TARGETS_S),
            "SLA_RESOLUTION_TARGETS_S": json.dumps(SLA_RESOLUTION_TARGETS_S),
            "SLA_TICK_S": "0.2",
            "SLA_LATE_AFTER_S": "2",
        }
    if name == "feedback":
        return {"FEEDBACK_LINK_SECRET": secrets.token_urlsafe(32), "FEEDBACK_TICK_S": "0.5"}
    if name == "notify":
        users = {
            user: {"email": f"{user}@staff.example.com", "name": user, "language": "en"}
            for team in TEAMS
            for user in (f"agent-{team}", f"lead-{team}")
        }
        directory = {"users": users, "team_leads": {t: f"lead-{t}" for t in TEAMS}}
        return {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(mail_port),
            "SMTP_FROM": "complaints@platform.example.com",
            "INTAKE_INTERNAL_URL": urls["intake"],
            "FEEDBACK_INTERNAL_URL": urls["feedback"],
            "NOTIFY_STAFF_DIRECTORY": json.dumps(directory),
        }
    raise ValueError(name)


_ACK_ROWS = """
SELECT complaint_id, created_at, claimed_at, finished_at, claimed_by, status, attempts
FROM deliveries WHERE template = 'acknowledgement' AND complaint_id = ANY($1::text[])
"""


def ack_breakdown(lat: LatencyResult, notify_dsn: str, mono_to_wall: float) -> dict[str, Any]:
    """Split POST -> ack into hops, joining the bench's timestamps with notify's rows.

    notify's timestamps are wall-clock (the same machine clock); ``mono_to_wall`` turns the
    bench's monotonic times into wall-clock seconds."""
    items = {t.complaint_id: t for t in lat.items if t.complaint_id and t.ack_at is not None}
    if not items:
        return {}
    rows = fetch_rows(notify_dsn, _ACK_ROWS, list(items))
    stages: dict[str, list[float]] = {
        "POST -> complaint.received on Kafka (intake)": [],
        "received on Kafka -> notify row recorded": [],
        "row recorded -> claimed by the delivery loop": [],
        "claimed -> SMTP accepted (lookup, render, send)": [],
    }
    keys = list(stages)
    claims: dict[tuple[str, float], int] = {}
    for row in rows:
        item = items.get(row["complaint_id"])
        if item is None or row["claimed_at"] is None or item.ack_at is None:
            continue
        created = row["created_at"].timestamp() - mono_to_wall
        claimed = row["claimed_at"].timestamp() - mono_to_wall
        if item.received_at is not None:
            stages[keys[0]].append(item.received_at - item.posted_at)
            stages[keys[1]].append(created - item.received_at)
        stages[keys[2]].append(claimed - created)
        stages[keys[3]].append(item.ack_at - claimed)
        round_key = (str(row["claimed_by"]), round(row["claimed_at"].timestamp(), 3))
        claims[round_key] = claims.get(round_key, 0) + 1
    return {
        "rows": len(rows),
        "stages_ms": {k: percentiles_ms(v) for k, v in stages.items()},
        "claims": sum(claims.values()),
        "claim_rounds": len(claims),
        "mean_batch": round(sum(claims.values()) / max(len(claims), 1), 1),
    }


def _fmt_pct(p: dict[str, float]) -> str:
    if not p:
        return "n/a"
    return ", ".join(f"{k} {p[k]:,.0f} ms" for k in ("p50", "p90", "p99", "max") if k in p)


def _intake_limit(cpu: dict[str, float], activity: dict[str, Any] | None, lg: str) -> str:
    waits = (activity or {}).get("avg_connections_by_state", {})
    lock_wait = sum(v for k, v in waits.items() if "Lock:" in k and "LWLock" not in k)
    lwlock = sum(v for k, v in waits.items() if "LWLock:" in k)
    in_tx_idle = sum(v for k, v in waits.items() if k.startswith("idle in transaction"))
    active_cpu = sum(v for k, v in waits.items() if k.startswith("active / on CPU"))
    wal = sum(v for k, v in waits.items() if "WAL" in k)
    others = sum(cpu.get(name, 0) for name in SERVICES if name != "intake")
    return (
        f"intake at {cpu.get('intake', 0):.0f}% of a core; the other four services "
        f"{others:.0f}%, postgres {cpu.get('postgres', 0):.0f}%, kafka "
        f"{cpu.get('kafka', 0):.0f}%, {lg} {cpu.get(lg, 0):.0f}%, other processes "
        f"{cpu.get('other processes', 0):.0f}%, machine {cpu.get('machine', 0):.0f}% of 2 "
        f"cores; intake's DB connections on average: {lock_wait:.1f} waiting on a lock, "
        f"{lwlock:.1f} on an LWLock, {wal:.1f} on WAL, {active_cpu:.1f} executing, "
        f"{in_tx_idle:.1f} idle in transaction (PostgreSQL waiting for intake's process)"
    )


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
    lg = "wrk" if "wrk" in thr_cpu else "bench"
    base_limit = (
        f"bare uvicorn {base_cpu.get('bare uvicorn', 0):.0f}% of a core (one worker can use "
        f"one core at most); load generator {base_cpu.get('wrk', base_cpu.get('bench', 0)):.0f}%"
        f"; busiest: {b_name} {b_cpu:.0f}%"
    )
    intake_limit = _intake_limit(thr_cpu, activity, lg)
    alone = results.get("intake_alone")
    alone_rate = alone["load"]["rate_201_per_s"] if alone else 0.0
    alone_limit = _intake_limit(alone["cpu_pct"], alone["pg_activity"], lg) if alone else ""
    visible = lat.visible_ms
    lat_limit = (
        f"pipeline hops (outbox relay -> Kafka -> routing -> outbox -> Kafka -> intake "
        f"projection); event p50 {lat.event_ms.get('p50', 0):.0f} ms, then projection; "
        f"intake {lat_cpu.get('intake', 0):.0f}% / routing {lat_cpu.get('routing', 0):.0f}% CPU"
    )
    ack = lat.ack_ms
    stages = (results.get("latency", {}).get("ack_breakdown") or {}).get("stages_ms", {})
    if stages:
        biggest = max(stages, key=lambda k: stages[k].get("p50", 0))
        ack_limit = (
            "hops POST -> received on Kafka -> notify row -> claimed -> SMTP, p50 "
            + " / ".join(f"{v.get('p50', 0):,.0f}" for v in stages.values())
            + f" ms; largest: {biggest}; notify {lat_cpu.get('notify', 0):.0f}% CPU"
        )
    else:
        ack_limit = f"notify {lat_cpu.get('notify', 0):.0f}% CPU (no per-hop breakdown)"
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
        *(
            [
                (
                    "intake durable accept, others stopped",
                    f"{alone_rate:,.0f}/s",
                    f"{base.rate(201):,.0f}/s",
                    f"{100 * alone_rate / max(base.rate(201), 1e-9):.1f}%",
                    alone_limit,
                )
            ]
            if alone
            else []
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
        (
            f"POST->ack e-mail p50 @{lat.achieved_rate_per_s:.0f}/s",
            f"{ack.get('p50', 0):,.0f} ms",
            "-",
            "-",
            ack_limit,
        ),
        (
            "POST->ack e-mail p90 / p99 / max",
            f"{ack.get('p90', 0):,.0f} / {ack.get('p99', 0):,.0f} / {ack.get('max', 0):,.0f} ms",
            "-",
            "-",
            f"{lat.acks_arrived}/{lat.acks_expected} acknowledgements accepted by the SMTP "
            f"sink, {lat.acks_expected - lat.acks_arrived} missing, "
            f"{lat.acks_duplicated} duplicated",
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
    quiet = results.get("quiet_wait")
    if quiet:
        say(
            f"machine before starting: waited {quiet['waited_s']:.0f} s for a 1-minute load "
            f"average below {quiet['threshold']:.2f}: {quiet['load_at_start'][0]:.2f} -> "
            f"{quiet['load_when_started'][0]:.2f}"
            + ("" if quiet["quiet"] else " (NOT quiet: others' load was still running)")
        )
    if lat.post_ms.get("p50", 0) > 1000:
        say(
            f"NOTE: POST answers took p50 {lat.post_ms['p50']:,.0f} ms at "
            f"{lat.achieved_rate_per_s:.0f}/s: intake did not keep up with the offered rate, so "
            "the latency figure is mostly queueing in front of intake"
        )
    disturbed = {
        name: cpu.get("other processes", 0.0)
        for name, cpu in (
            ("baseline", base_cpu),
            ("intake", thr_cpu),
            ("intake alone", alone["cpu_pct"] if alone else {}),
            ("latency", lat_cpu),
        )
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
        "intake_alone_per_s": alone_rate,
        "ratio": round(ratio, 4),
        "latency_visible_ms": visible,
        "latency_event_ms": lat.event_ms,
        "latency_load_per_s": lat.achieved_rate_per_s,
        "latency_ack_ms": ack,
        "acks": {
            "expected": lat.acks_expected,
            "arrived": lat.acks_arrived,
            "missing": lat.acks_expected - lat.acks_arrived,
            "duplicated": lat.acks_duplicated,
        },
        "goal_rate_reached": reached_rate,
        "goal_ratio_reached": reached_ratio,
        "what_limits": {
            "baseline": base_limit,
            "intake": intake_limit,
            "intake_alone": alone_limit,
            "latency": lat_limit,
            "ack": ack_limit,
        },
    }


if __name__ == "__main__":
    raise SystemExit(main())
