"""The drain: after intake's throughput run, how fast routing and intake's projection assign
the backlog and notify sends its acknowledgements, with every service running, and what that
costs per complaint (CPU ms and peak RSS of each service, PostgreSQL and Kafka)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from common import add_other, describe_cpu, say, step
from pgwatch import fetch_rows, value
from procstat import CpuSampler, Group
from resources import ResourceSampler, describe_costs, drain_costs

_COUNT_SQL = "SELECT count(*) FROM complaints"


def run_drain(
    args: argparse.Namespace,
    intake_dsn: str,
    rows_after: int,
    groups: list[Group],
    notify_dsn: str | None = None,
) -> dict[str, Any]:
    """Wait for routing and intake's projection to assign the backlog and for notify to
    finish its acknowledgements; the rates, the CPU % and the cost per complaint."""
    step(
        "drain: waiting for routing and intake's projection to assign the backlog"
        + (" and for notify to send its acknowledgements ..." if notify_dsn else " ...")
    )
    cpu_drain = CpuSampler(groups)
    costs = ResourceSampler(groups)
    cpu_drain.start()
    costs.start()
    drain = wait_for_pipeline(
        intake_dsn, notify_dsn, total_hint=rows_after, timeout_s=args.drain_timeout
    )
    drain["cpu_pct"] = cpu_drain.stop()
    add_other(drain["cpu_pct"])
    # Each drained complaint needs both its assignment and its acknowledgement; the larger
    # of the two counts is how many complaints' work the drain did (the other stage had
    # partly caught up during the load already).
    done = max(drain["assigned_in_drain"], drain.get("acknowledged_in_drain", 0))
    cost = drain_costs(costs.stop(), done)
    drain["cpu_ms_per_complaint"] = cost["cpu_ms_per_complaint"]
    drain["peak_rss_mib"] = cost["peak_rss_mib"]
    drain["peak_pss_mib"] = cost["peak_pss_mib"]
    drain["cost_complaints"] = cost["complaints"]
    drain["cost_busiest"] = cost["busiest"]
    drain["cpu_s"] = cost["cpu_s"]
    say(
        f"    {drain['backlog_at_start']:,} unassigned at start, "
        f"{drain['left_unassigned']:,} left after {drain['assigned_seconds']} s: "
        f"{drain['assigned_per_s']:,} assigned/s"
        + ("" if drain["assigned_complete"] else " (timed out)")
    )
    if notify_dsn:
        say(
            f"    acknowledgements: {drain['ack_open_at_start']:,} open and "
            f"{drain['ack_rows_missing_at_start']:,} not yet recorded at start, "
            f"{drain['acknowledged_in_drain']:,} finished in {drain['acknowledged_seconds']} s "
            f"({drain['ack_sent_in_drain']:,} of them sent by e-mail, {drain['ack_left']:,} "
            f"left): {drain['acknowledged_per_s']:,} acknowledged/s"
            + ("" if drain["acknowledged_complete"] else " (timed out)")
            + f"; all acknowledgement rows by status {drain['ack_statuses']}"
        )
    say(f"    {describe_cpu(drain['cpu_pct'])}")
    describe_costs(drain)
    return drain


_UNASSIGNED_SQL = "SELECT count(*) FROM complaints WHERE status <> 'assigned'"
_ACK_SQL = """
SELECT status, count(*) AS n FROM deliveries WHERE template = 'acknowledgement' GROUP BY status
"""
_ACK_OPEN = ("pending", "preparing", "sending")


def _ack_state(notify_dsn: str) -> dict[str, int]:
    return {row["status"]: row["n"] for row in fetch_rows(notify_dsn, _ACK_SQL)}


def wait_for_pipeline(
    dsn: str, notify_dsn: str | None = None, *, total_hint: int, timeout_s: float
) -> dict[str, Any]:
    """Wait until every complaint is assigned and intake's outbox is empty, and (with
    ``notify_dsn``) every complaint has an acknowledgement row that is no longer pending,
    preparing or sending. Each part's rate is over its own time from the start."""
    started = time.monotonic()
    first = value(dsn, _UNASSIGNED_SQL)
    complaints = value(dsn, _COUNT_SQL)
    acks = _ack_state(notify_dsn) if notify_dsn else {}
    ack_open_first = sum(acks.get(s, 0) for s in _ACK_OPEN)
    ack_done_first = sum(acks.values()) - ack_open_first
    ack_sent_first = acks.get("sent", 0)
    ack_missing_first = max(complaints - sum(acks.values()), 0)
    next_report = started + 5
    remaining, ack_left = first, ack_open_first + ack_missing_first
    assigned_at: float | None = None
    acked_at: float | None = None if notify_dsn else started
    while time.monotonic() - started < timeout_s:
        if assigned_at is None:
            remaining = value(dsn, _UNASSIGNED_SQL)
            outbox = value(dsn, "SELECT count(*) FROM outbox_messages")
            if remaining == 0 and outbox == 0:
                assigned_at = time.monotonic()
        if acked_at is None and notify_dsn:
            acks = _ack_state(notify_dsn)
            open_now = sum(acks.get(s, 0) for s in _ACK_OPEN)
            ack_left = open_now + max(complaints - sum(acks.values()), 0)
            if ack_left == 0:
                acked_at = time.monotonic()
        if assigned_at is not None and acked_at is not None:
            break
        if time.monotonic() >= next_report:
            say(
                f"    {remaining:,} of {total_hint:,} not yet assigned"
                + (f", {ack_left:,} acknowledgements not finished" if notify_dsn else "")
            )
            next_report += 5
        time.sleep(0.25)
    now = time.monotonic()
    elapsed = now - started
    a_elapsed = (assigned_at or now) - started
    drained = first - remaining
    result: dict[str, Any] = {
        "backlog_at_start": first,
        "left_unassigned": remaining,
        "seconds": round(elapsed, 1),
        "assigned_seconds": round(a_elapsed, 1),
        "assigned_in_drain": drained,
        "assigned_per_s": round(drained / a_elapsed, 1) if a_elapsed > 0 else 0.0,
        "assigned_complete": assigned_at is not None,
        "complete": assigned_at is not None and acked_at is not None,
    }
    if notify_dsn:
        k_elapsed = (acked_at or now) - started
        acked = sum(acks.values()) - sum(acks.get(s, 0) for s in _ACK_OPEN) - ack_done_first
        result |= {
            "complaints_total": complaints,
            "ack_open_at_start": ack_open_first,
            "ack_rows_missing_at_start": ack_missing_first,
            "ack_left": ack_left,
            "acknowledged_seconds": round(k_elapsed, 1),
            "acknowledged_in_drain": acked,
            "acknowledged_per_s": round(acked / k_elapsed, 1) if k_elapsed > 0 else 0.0,
            "acknowledged_complete": acked_at is not None,
            # Of those, sent by e-mail (the others: skipped, e.g. no e-mail address, or
            # logged, failed, uncertain).
            "ack_sent_in_drain": acks.get("sent", 0) - ack_sent_first,
            "ack_statuses": acks,
        }
    return result
