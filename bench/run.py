"""`make bench`: intake's durable accept throughput against a bare FastAPI endpoint, the
POST -> assigned latency and the POST -> acknowledgement e-mail latency, with all five
services (intake, routing, sla-watch, feedback, notify) on a real Kafka, a real PostgreSQL
(fsync on) and an SMTP sink (aiosmtpd) in the bench process; then the sla phase: sla-watch
alone with a million open clocks (steady-state firing lag, RSS, catch-up after downtime,
arming throughput from a backlog of triaged events). `make bench-quick`: a smoke run of the
intake part only (``--quick --only intake``), under 3 minutes.

The intake part's phases, in order (keys of the results file in brackets):
  1. baseline [baseline]: a bare FastAPI endpoint, closed loop (wrk).
  2. latency [latency]: --latency-rate complaints/s open loop, POST -> assigned visible in
     GET and POST -> acknowledgement e-mail; then the same at --latency-rate-high
     [latency_100] (100/s by default: latency under a load nearer intake's limit).
  3. intake throughput [intake]: closed loop with all five services running.
  4. drain [drain]: how fast routing and intake's projection assign the backlog
     (assigned_per_s) and notify finishes its acknowledgements (acknowledged_per_s), each
     over its own time, and what that costs: CPU ms per drained complaint and peak RSS of
     each service, PostgreSQL and Kafka (cpu_ms_per_complaint, peak_rss_mib).
  5. overload [overload]: --overload-factor x the rate of phase 3, open loop, for
     --overload-duration s: answers by status (201, 503, 429, other, connection errors),
     Retry-After on 503/429, POST latency of the 201s and of all answers, and its p99 in the
     first and the last third (does the latency grow without bound?). 503s are intake
     shedding load as intended, not failures.
  6. intake alone [intake_alone]: the four other services stopped, closed loop again.
  7. optional: cProfile (--profile), py-spy (--py-spy).

Everything it starts (Kafka, PostgreSQL, the services, the bare app, the SMTP sink) is
stopped at the end, also on Ctrl-C or failure. Results go to stdout and to
.run/bench-results.json. Run ``bench/run.py --help`` for the options; each has a BENCH_*
environment variable too. ``--only intake`` or ``--only sla`` runs one part.

Modules: common.py (output, machine, CPU, quiet wait, service environment), intake_bench.py
(load generator, baseline, throughput, profile), latency_phase.py and latency.py (the latency
phases), drain.py and resources.py (the drain and its cost per complaint), overload.py (the
overload run), pipeline_bench.py (the five services, the platform phases in order),
report.py (their summary), sla_bench.py, sla_clocks.py, sla_kafka.py and sla_report.py (the
sla phase).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    BENCH_CUSTOMERS,
    FIXTURES,
    QUIESCE_TIMEOUT_S,
    RUN_DIR,
    env,
    machine_info,
    say,
    step,
    wait_for_quiet_machine,
)
from complaint_contracts.topics import all_topics
from complaint_devinfra.infra import Infrastructure
from intake_bench import Loader
from loadgen import fixture_bodies
from mailsink import MailSink
from pgwatch import plain_dsn, value
from pipeline_bench import run_platform
from procs import UvicornProcess
from sla_bench import run_sla

PHASES = ("intake", "sla")


def add_sla_options(p: argparse.ArgumentParser) -> None:
    """The sla phase's options (see sla_bench.py)."""

    def opt(flag: str, kind: type, var: str, default: str, text: str) -> None:
        p.add_argument(
            flag, type=kind, default=kind(env(var, default)), help=f"{text} ({var}, {default})"
        )

    opt("--clocks", int, "BENCH_CLOCKS", "1000000", "sla phase: open clocks in sla-watch's table")
    opt("--sla-rate", float, "BENCH_SLA_RATE", "50", "sla phase: thresholds falling due per second")
    opt("--sla-window", float, "BENCH_SLA_WINDOW", "60", "sla phase: seconds of steady state")
    opt("--sla-downtime", float, "BENCH_SLA_DOWNTIME", "600", "sla phase: downtime to catch up (s)")
    opt("--triaged", int, "BENCH_TRIAGED", "20000", "sla phase: triaged backlog to arm")
    opt(
        "--sla-arm-timeout",
        float,
        "BENCH_SLA_ARM_TIMEOUT",
        "150",
        "sla phase: most seconds to wait for the backlog to be armed (the rate is then taken "
        "over what was armed)",
    )
    opt(
        "--sla-catch-up-timeout",
        float,
        "BENCH_SLA_CATCH_UP_TIMEOUT",
        "180",
        "sla phase: most seconds to wait for the late events after the restart",
    )
    opt("--sla-tick", float, "BENCH_SLA_TICK", "0.5", "sla phase: SLA_TICK_S of sla-watch")
    opt("--sla-late-after", float, "BENCH_SLA_LATE_AFTER", "5", "sla phase: SLA_LATE_AFTER_S")
    opt("--sla-chunk", int, "BENCH_SLA_CHUNK", "50000", "sla phase: clocks per COPY transaction")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="bench/run.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--only",
        choices=PHASES,
        default=env("BENCH_ONLY", "") or None,
        help="run one part: 'intake' (baseline, latency, throughput with the five services) "
        "or 'sla' (sla-watch with --clocks open clocks) (BENCH_ONLY, both)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        default=env("BENCH_QUICK", "") in ("1", "true"),
        help="smoke run: 1 s warm-up, 3 s load, 3 s latency at 20/s and at the high rate, "
        "4 s overload; at most 30 s of drain, 30 s of waiting for acknowledgements, 60 s "
        "for a quiet machine and 5 s for an idle one before each measurement (BENCH_QUICK=1)",
    )
    p.add_argument(
        "--duration",
        type=float,
        default=float(env("BENCH_DURATION", "15")),
        help="seconds of measured closed-loop load per throughput figure (BENCH_DURATION, 15)",
    )
    p.add_argument(
        "--warmup",
        type=float,
        default=float(env("BENCH_WARMUP", "3")),
        help="seconds of unmeasured load before each measurement (BENCH_WARMUP, 3)",
    )
    p.add_argument(
        "--connections",
        type=int,
        default=int(env("BENCH_CONNECTIONS", "64")),
        help="concurrent keep-alive connections of the closed loop (BENCH_CONNECTIONS, 64)",
    )
    p.add_argument(
        "--loadgen",
        choices=("auto", "wrk", "python"),
        default=env("BENCH_LOADGEN", "auto"),
        help="closed-loop generator; auto = wrk, installed with apt-get if missing, else "
        "python (BENCH_LOADGEN, auto)",
    )
    p.add_argument(
        "--wrk-threads",
        type=int,
        default=int(env("BENCH_WRK_THREADS", "1")),
        help="wrk threads; 1 leaves the most CPU to the server (BENCH_WRK_THREADS, 1)",
    )
    p.add_argument(
        "--no-install", action="store_true", help="never apt-get install wrk (use python)"
    )
    p.add_argument(
        "--latency-rate",
        type=float,
        default=float(env("BENCH_LATENCY_RATE", "20")),
        help="open-loop complaints/s of the latency figures (BENCH_LATENCY_RATE, 20)",
    )
    p.add_argument(
        "--latency-duration",
        type=float,
        default=float(env("BENCH_LATENCY_DURATION", "20")),
        help="seconds of the latency run (BENCH_LATENCY_DURATION, 20)",
    )
    p.add_argument(
        "--latency-rate-high",
        type=float,
        default=float(env("BENCH_LATENCY_RATE_HIGH", "100")),
        help="open-loop complaints/s of the second latency run, right after the first and "
        "as long; results key latency_100 (BENCH_LATENCY_RATE_HIGH, 100; 0 = skip)",
    )
    p.add_argument(
        "--overload-factor",
        type=float,
        default=float(env("BENCH_OVERLOAD_FACTOR", "2")),
        help="overload phase: offer this many times the rate intake sustained in the "
        "throughput phase, open loop, after the drain (BENCH_OVERLOAD_FACTOR, 2; 0 = skip)",
    )
    p.add_argument(
        "--overload-duration",
        type=float,
        default=float(env("BENCH_OVERLOAD_DURATION", "15")),
        help="seconds of the overload phase (BENCH_OVERLOAD_DURATION, 15; quick 4)",
    )
    p.add_argument(
        "--ack-timeout",
        type=float,
        default=float(env("BENCH_ACK_TIMEOUT", "90")),
        help="max seconds after the last POST to wait for the acknowledgement e-mails "
        "(BENCH_ACK_TIMEOUT, 90)",
    )
    p.add_argument(
        "--quiet-load",
        type=float,
        default=float(env("BENCH_QUIET_LOAD", "1.0")),
        help="before starting anything, wait until the 1-minute load average is below this "
        "(BENCH_QUIET_LOAD, 1.0)",
    )
    p.add_argument(
        "--quiet-wait",
        type=float,
        default=float(env("BENCH_QUIET_WAIT", "300")),
        help="max seconds to wait for that (0 = do not wait) (BENCH_QUIET_WAIT, 300)",
    )
    p.add_argument(
        "--drain-timeout",
        type=float,
        default=float(env("BENCH_DRAIN_TIMEOUT", "300")),
        help="max seconds to wait for routing+projection to assign the throughput backlog "
        "and for notify to finish its acknowledgements (0 = skip) (BENCH_DRAIN_TIMEOUT, 300)",
    )
    p.add_argument(
        "--profile",
        type=float,
        default=float(env("BENCH_PROFILE", "0")),
        help="extra phase: run intake under cProfile for this many seconds of load and print "
        "where its CPU goes (BENCH_PROFILE, 0 = off)",
    )
    p.add_argument(
        "--py-spy",
        type=float,
        default=float(env("BENCH_PY_SPY", "0")),
        help="sample the five services with py-spy for this many seconds from the start of "
        "the throughput phase (load, then drain) and print where their CPU goes; the raw "
        "stacks stay in .run/bench/py-spy (BENCH_PY_SPY, 0 = off)",
    )
    p.add_argument(
        "--json",
        type=Path,
        default=Path(env("BENCH_JSON", str(RUN_DIR / "bench-results.json"))),
        help="where to write the results (BENCH_JSON, .run/bench-results.json)",
    )
    add_sla_options(p)
    args = p.parse_args(argv)
    if args.quick:
        args.duration = min(args.duration, 3.0)
        args.warmup = min(args.warmup, 1.0)
        args.latency_rate = min(args.latency_rate, 20.0)
        args.latency_duration = min(args.latency_duration, 3.0)
        args.overload_duration = min(args.overload_duration, 4.0)
        args.drain_timeout = min(args.drain_timeout, 30.0)
        args.ack_timeout = min(args.ack_timeout, 30.0)
        args.quiet_wait = min(args.quiet_wait, 60.0)
        # Waiting for an idle machine before each measurement: 5 s at most, not 20 s.
        QUIESCE_TIMEOUT_S["default"] = 5.0
    return args


def say_banner(args: argparse.Namespace, phases: tuple[str, ...], info: dict[str, Any]) -> None:
    """What this run measures, on which machine, with which settings."""
    say("=" * 78)
    if "intake" in phases:
        say("complaint platform bench: intake durable accept throughput, POST->assigned and")
        say("POST->acknowledgement e-mail latency, all five services")
    if "sla" in phases:
        say(f"sla-watch bench: {args.clocks:,} open clocks, firing lag, RSS, catch-up, arming")
    say("=" * 78)
    say(
        f"machine: {info['cores']} cores ({info['cpu']}), {info['memory_gib']} GiB, "
        f"Python {info['python']}, Linux {info['kernel']}"
    )
    if "intake" in phases:
        say(
            f"settings: closed loop {args.connections} connections, {args.warmup:.0f} s "
            f"warm-up + {args.duration:.0f} s measured; latency {args.latency_rate:.0f}/s open "
            f"loop for {args.latency_duration:.0f} s"
            + (f" and at {args.latency_rate_high:.0f}/s" if args.latency_rate_high > 0 else "")
            + (
                f"; overload {args.overload_factor:g} x intake's rate for "
                f"{args.overload_duration:.0f} s"
                if args.overload_factor > 0 and args.overload_duration > 0
                else ""
            )
            + ("; QUICK smoke run" if args.quick else "")
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    phases = (args.only,) if args.only else PHASES
    # SIGTERM behaves like Ctrl-C so that the finally blocks stop everything.
    signal.signal(signal.SIGTERM, _interrupt)
    RUN_DIR.mkdir(exist_ok=True)
    log_dir = RUN_DIR / "bench" / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    started_at = datetime.now(UTC)
    info = machine_info()
    say_banner(args, phases, info)

    results: dict[str, Any] = {
        "started_at": started_at.isoformat(),
        "machine": info,
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
    }
    loader: Loader | None = None
    bodies: list[bytes] = []
    if "intake" in phases:
        bodies = fixture_bodies(FIXTURES, customers=BENCH_CUSTOMERS)
        say(
            f"bodies: {len(bodies)} = the fixture complaints (expected labels stripped) posted"
            f" by {BENCH_CUSTOMERS} customers each, rotated (one customer's repeats would be"
            " linked as duplicates)"
        )
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
        infra.kafka.create_topics([(t.name, t.partitions) for t in all_topics()])
        postgres_dsn = plain_dsn(infra.postgres.database_url("postgres"))
        durability = {
            name: value(postgres_dsn, f"SHOW {name}")
            for name in ("fsync", "synchronous_commit", "wal_sync_method", "full_page_writes")
        }
        say(f"    PostgreSQL durability: {durability}")
        results["postgres_settings"] = durability
        if loader is not None:
            run_platform(
                args,
                infra=infra,
                loader=loader,
                bodies=bodies,
                results=results,
                log_dir=log_dir,
                services=services,
                mail=mail,
            )
        if "sla" in phases:
            results["sla"] = run_sla(args, infra=infra, log_dir=log_dir, services=services)
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
            step("stopped every service the bench started, the SMTP sink, Kafka and PostgreSQL")
    results["finished_at"] = datetime.now(UTC).isoformat()
    results["total_seconds"] = round((datetime.now(UTC) - started_at).total_seconds(), 1)
    say(f"bench took {results['total_seconds']:,.0f} s in all")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    say(f"results written to {args.json}")
    return exit_code


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    raise SystemExit(main())
