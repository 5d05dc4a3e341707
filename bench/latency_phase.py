"""The latency phase: POST -> assigned visible in GET and POST -> acknowledgement e-mail at
a fixed open-loop rate (latency.py measures; this module warms the pipeline up, runs it,
prints the figures and splits the acknowledgement's time into hops from notify's rows)."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
from pathlib import Path
from typing import Any

from common import BENCH_CUSTOMERS, add_other, describe_cpu, fmt_pct, quiesce, say, step
from complaint_contracts import topics
from latency import LatencyResult, percentiles_ms, run_latency
from mailsink import MailSink
from pgwatch import fetch_rows
from procs import UvicornProcess
from procstat import CpuSampler, Group

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


def warm_up_pipeline(
    args: argparse.Namespace,
    *,
    intake: UvicornProcess,
    api_key: str,
    bootstrap_servers: str,
    bodies: list[bytes],
    mail: MailSink,
    notify_log: Path,
) -> None:
    """One complaint per fixture, each until assigned and acknowledged; raises if not."""
    step("pipeline warm-up: one complaint per fixture, each until assigned and acknowledged")
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
            email_prefix=f"warm-{secrets.token_hex(3)}",
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


def run_latency_phase(
    args: argparse.Namespace,
    *,
    label: str,
    rate_per_s: float,
    duration_s: float,
    intake: UvicornProcess,
    api_key: str,
    bootstrap_servers: str,
    bodies: list[bytes],
    mail: MailSink,
    notify_dsn: str,
    groups: list[Group],
) -> tuple[LatencyResult, dict[str, float], dict[str, Any]]:
    """On a quiet pipeline: POST -> assigned and POST -> acknowledgement at ``rate_per_s``."""
    quiesce(groups)
    step(
        f"{label}: {rate_per_s:.0f} complaints/s open loop for "
        f"{duration_s:.0f} s, POST -> assigned visible in GET and POST -> "
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
            rate_per_s=rate_per_s,
            duration_s=duration_s,
            progress=say,
            mail=mail,
            email_prefix=f"lat{rate_per_s:.0f}-{secrets.token_hex(3)}",
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


def run_latency_phases(
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
    results: dict[str, Any],
) -> tuple[LatencyResult, dict[str, float]]:
    """The warm-up, then ``latency`` at --latency-rate and ``latency_100`` at
    --latency-rate-high (0 = skipped) into ``results``; the first one's result and CPU."""
    common: dict[str, Any] = {
        "intake": intake,
        "api_key": api_key,
        "bootstrap_servers": bootstrap_servers,
        "bodies": bodies,
        "mail": mail,
    }
    warm_up_pipeline(args, notify_log=notify_log, **common)
    phase: dict[str, Any] = {**common, "notify_dsn": notify_dsn, "groups": groups}
    lat, lat_cpu, results["latency"] = run_latency_phase(
        args,
        label="latency",
        rate_per_s=args.latency_rate,
        duration_s=args.latency_duration,
        **phase,
    )
    if args.latency_rate_high > 0:
        *_, results["latency_100"] = run_latency_phase(
            args,
            label="latency at the high rate",
            rate_per_s=args.latency_rate_high,
            duration_s=args.latency_duration,
            **phase,
        )
    return lat, lat_cpu
