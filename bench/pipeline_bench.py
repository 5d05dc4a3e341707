"""The platform phases: the five services on the bench's Kafka and PostgreSQL, the bare
baseline, the POST -> assigned and POST -> acknowledgement latency, intake's throughput with
all five running and alone, the drain, and the optional profile. ``run_platform`` runs them
in that order and prints the summary."""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import time
from pathlib import Path
from typing import Any

from common import (
    BENCH_CUSTOMERS,
    add_other,
    common_env,
    describe_cpu,
    fmt_pct,
    infra_groups,
    pid_of,
    quiesce,
    say,
    step,
)
from complaint_contracts import topics
from complaint_devinfra.infra import Infrastructure
from intake.cli import create_api_key, generate_keys
from intake_bench import Loader, profile_intake, run_baseline, run_drain, throughput
from latency import LatencyResult, percentiles_ms, run_latency
from mailsink import MailSink
from pgwatch import fetch_rows, plain_dsn
from procs import UvicornProcess
from procstat import CpuSampler, Group
from report import summarize

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


def run_latency_phase(
    args: argparse.Namespace,
    *,
    intake: UvicornProcess,
    api_key: str,
    bootstrap_servers: str,
    bodies: list[bytes],
    mail: MailSink,
    notify_dsn: str,
    notify_log: Path,
    groups: list[Group],
) -> tuple[LatencyResult, dict[str, float], dict[str, Any]]:
    """Warm the pipeline up, then measure POST -> assigned and POST -> acknowledgement."""
    step("pipeline warm-up: one complaint per fixture, each until assigned and acknowledged")
    run_tag = secrets.token_hex(3)
    fixtures = bodies[: len(bodies) // BENCH_CUSTOMERS]  # each sample once
    warm = asyncio.run(
        run_latency(
            intake_url=intake.url,
            api_key=api_key,
            bootstrap_servers=bootstrap_servers,
            topic=topics.ROUTING.name,
            intake_topic=topics.INTAKE.name,
            bodies=fixtures,
            rate_per_s=20,
            duration_s=len(fixtures) / 20,
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
            f"(see {notify_log})"
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
            bootstrap_servers=bootstrap_servers,
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
    say(f"    POST answer  : {fmt_pct(lat.post_ms)}")
    say(f"    received event on Kafka: {fmt_pct(lat.received_event_ms)}")
    say(f"    assigned event on Kafka: {fmt_pct(lat.event_ms)}")
    say(f"    assigned visible in GET: {fmt_pct(lat.visible_ms)}")
    say(f"    ack e-mail accepted by SMTP: {fmt_pct(lat.ack_ms)}")
    ack_stages = ack_breakdown(lat, notify_dsn, mono_to_wall)
    if ack_stages:
        say("    where the acknowledgement's time goes (per complaint, then percentiles):")
        for stage, pct in ack_stages["stages_ms"].items():
            say(f"      {stage:<48} {fmt_pct(pct)}")
        say(
            f"      notify rounds: {ack_stages['claims']} claims in "
            f"{ack_stages['claim_rounds']} rounds, mean batch {ack_stages['mean_batch']}"
        )
    say(f"    {describe_cpu(lat_cpu)}")
    if lat.errors:
        say(f"    errors: {lat.errors[:5]}")
    latency = {
        **lat.as_dict(),
        "acks_missing_count": missing,
        "ack_breakdown": ack_stages,
        "mail_sink": mail_after,
        "cpu_pct": lat_cpu,
    }
    return lat, lat_cpu, latency


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
    say(
        "    "
        + ", ".join(f"{name} pid {proc.pid}" for name, proc in procs.items())
        + f"; intake on {intake.url}"
    )
    groups = [Group(name, pid_of(proc)) for name, proc in procs.items()] + infra_cpu
    headers = {"X-API-Key": api_key}

    # ---- 3. latency (on a quiet pipeline, before the throughput backlog) ----------------
    lat, lat_cpu, results["latency"] = run_latency_phase(
        args,
        intake=intake,
        api_key=api_key,
        bootstrap_servers=kafka.bootstrap_servers,
        bodies=bodies,
        mail=mail,
        notify_dsn=plain_dsn(urls["notify"]),
        notify_log=procs["notify"].log_path,
        groups=groups,
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

    full = measure_intake("intake (all five services running)", groups)
    thr, thr_cpu, activity = full.pop("result"), full["cpu_pct"], full["pg_activity"]
    rows_after = full.pop("rows_after")
    results["intake"] = full

    # ---- drain: routing + projection catching up ----------------------------------------
    if args.drain_timeout > 0:
        results["drain"] = run_drain(args, intake_dsn, rows_after, groups)

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
