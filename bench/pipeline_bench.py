"""The platform phases: the five services on the bench's Kafka and PostgreSQL, the bare
baseline, the POST -> assigned and POST -> acknowledgement latency at --latency-rate and at
--latency-rate-high (latency_phase.py), intake's throughput with all five running, the drain
(drain.py), the overload run (overload.py), intake's throughput alone, and the optional
profile. ``run_platform`` runs them in that order and prints the summary (report.py)."""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
from pathlib import Path
from typing import Any

from common import common_env, infra_groups, pid_of, say, step
from complaint_devinfra.infra import Infrastructure
from drain import run_drain
from intake.cli import create_api_key, generate_keys
from intake_bench import Loader, profile_intake, run_baseline, throughput
from latency_phase import run_latency_phases
from mailsink import MailSink
from overload import run_overload
from pgwatch import plain_dsn
from procs import UvicornProcess
from procstat import Group
from report import summarize
from spy import SpySession, describe

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
        return {"ROUTING_AGENTS": json.dumps(agents), "INTAKE_INTERNAL_URL": urls["intake"]}
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


def run_platform(
    args: argparse.Namespace,
    *,
    infra: Infrastructure,
    loader: Loader,
    bodies: list[bytes],
    results: dict[str, Any],
    log_dir: Path,
    services: list[UvicornProcess],
    mail: MailSink,
) -> None:
    """Every platform phase, then the summary; ``services`` collects what must be stopped."""
    kafka, postgres = infra.kafka, infra.postgres
    urls = {name: postgres.create_database(name.replace("-", "_")) for name in SERVICES}
    intake_dsn = plain_dsn(urls["intake"])
    infra_cpu = infra_groups(infra)

    # ---- 1. baseline ------------------------------------------------------------------
    base, base_cpu = run_baseline(args, loader, log_dir, infra_cpu)
    results["baseline"] = {"load": base.as_dict(), "cpu_pct": base_cpu}

    # ---- services ---------------------------------------------------------------------
    step("creating the API key, starting the SMTP sink and the five services ...")
    keys = generate_keys()
    api_key = asyncio.run(
        create_api_key(database_url=urls["intake"], label="bench", channels=["*"])
    )
    mail.start()
    say(f"    SMTP sink (aiosmtpd, in the bench process) on 127.0.0.1:{mail.port}")
    procs = {name: UvicornProcess(name, factory, {}, log_dir) for name, factory in SERVICES.items()}
    for name, proc in procs.items():
        proc.env = {
            **common_env(kafka.bootstrap_servers, name),
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
    say(
        "    "
        + ", ".join(f"{name} pid {proc.pid}" for name, proc in procs.items())
        + f"; intake on {intake.url}"
    )
    groups = [Group(name, pid_of(proc)) for name, proc in procs.items()] + infra_cpu
    headers = {"X-API-Key": api_key}

    # ---- 3. latency (on a quiet pipeline, before the throughput backlog) ----------------
    notify_dsn = plain_dsn(urls["notify"])
    lat, lat_cpu = run_latency_phases(
        args,
        intake=intake,
        api_key=api_key,
        bootstrap_servers=kafka.bootstrap_servers,
        bodies=bodies,
        mail=mail,
        notify_dsn=notify_dsn,
        notify_log=procs["notify"].log_path,
        groups=groups,
        results=results,
    )

    # ---- 2. intake throughput -----------------------------------------------------------
    def measure_intake(label: str, phase_groups: list[Group]) -> dict[str, Any]:
        return throughput(
            label,
            args=args,
            loader=loader,
            intake_url=intake.url,
            intake_dsn=intake_dsn,
            headers=headers,
            groups=phase_groups,
        )

    spy = SpySession(log_dir.parent / "py-spy", args.py_spy) if args.py_spy > 0 else None
    if spy is not None:
        pids = {name: proc.pid for name, proc in procs.items()}
        if spy.start(pids):
            step(f"py-spy: sampling the five services for {args.py_spy:.0f} s from now")
        else:
            say("    py-spy not found (make install puts it in .venv/bin): no profile")
            spy = None
    full = measure_intake("intake (all five services running)", groups)
    thr, thr_cpu, activity = full.pop("result"), full["cpu_pct"], full["pg_activity"]
    rows_after = full.pop("rows_after")
    results["intake"] = full

    # ---- drain: routing + projection catching up ----------------------------------------
    if args.drain_timeout > 0:
        results["drain"] = run_drain(args, intake_dsn, rows_after, groups, notify_dsn)
    if spy is not None:
        step("py-spy: where each service's CPU went (load, then drain)")
        results["py_spy"] = spy.stop()
        describe(results["py_spy"], say)

    # ---- overload: twice (--overload-factor) what intake sustained above -----------------
    # After the drain, so that its backlog does not slow the drain figure down.
    if args.overload_factor > 0 and args.overload_duration > 0:
        results["overload"] = run_overload(
            url=intake.url,
            headers=headers,
            loader=loader,
            sustained_per_s=thr.rate(201),
            factor=args.overload_factor,
            duration_s=args.overload_duration,
        )

    # ---- 2b. intake alone: the four other services stopped ------------------------------
    # With all five running, the others consume the same backlog on the same 2 cores
    # (and notify looks up every complaint's contact at intake). Measured again without
    # them, the difference is what that contention costs intake.
    step("stopping routing, sla-watch, feedback and notify to measure intake alone ...")
    for name in ("notify", "feedback", "sla-watch", "routing"):
        procs[name].stop()
    alone_groups = [g for g in groups if g.name not in SERVICES or g.name == "intake"]
    alone = measure_intake("intake alone (the other four stopped)", alone_groups)
    alone.pop("result")
    alone.pop("rows_after")
    results["intake_alone"] = alone

    if args.profile > 0:
        intake.stop()
        results["profile"] = profile_intake(args, loader, intake.env, headers, log_dir)

    summarize(results, base, base_cpu, thr, thr_cpu, lat, lat_cpu, activity, args)
    # The sla phase runs its own sla-watch: nothing of this phase keeps running.
    for service in procs.values():
        service.stop()
    mail.stop()
