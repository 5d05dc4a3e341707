"""Figures of the sla phase: lag of emitted events against their due instants, the checks
(missing, duplicated, late flags) and the summary table with what limits each figure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from common import say
from latency import percentiles_ms
from sla_clocks import PlacedClock
from sla_kafka import Fired

GOAL_LAG_P99_S = 1.0
GOAL_RSS_MIB = 512.0
GOAL_CATCH_UP_S = 30.0


def match(placed: Sequence[PlacedClock], fired: Sequence[Fired]) -> dict[str, Any]:
    """The events of the placed clocks: lag (record timestamp - due instant), what is
    missing, duplicated or for another threshold than the one placed."""
    wanted = {p.clock_id: p for p in placed}
    mine = [f for f in fired if f.clock_id in wanted]
    copies = Counter((f.clock_id, f.percent) for f in mine)
    first: dict[str, Fired] = {}
    for event in sorted(mine, key=lambda f: f.sent):
        first.setdefault(event.clock_id, event)
    wrong = [f for f in first.values() if f.percent != wanted[f.clock_id].percent]
    off_due = [f for f in first.values() if abs(f.due - wanted[f.clock_id].due) > 0.001]
    events = list(first.values())
    return {
        "expected": len(placed),
        "seen": len(events),
        "missing": len(placed) - len(events),
        "duplicated": sum(n - 1 for n in copies.values() if n > 1),
        "other_threshold": len(wrong),
        "due_differs_from_placed": len(off_due),
        "lag_ms": percentiles_ms([f.sent - f.due for f in events]),
        "consumed_lag_ms": percentiles_ms([f.consumed - f.due for f in events]),
        "late_flags": sum(1 for f in events if f.late),
        "first_sent": min((f.sent for f in events), default=0.0),
        "last_sent": max((f.sent for f in events), default=0.0),
        "events": events,
    }


def check_late(
    events: Sequence[Fired], *, restarted_at: float, late_after_s: float
) -> dict[str, int]:
    """After downtime, an event whose due instant lies more than SLA_LATE_AFTER_S before the
    restart cannot have gone out in time: it must say late=true."""
    surely_late = [f for f in events if f.due < restarted_at - late_after_s]
    return {
        "due_before_restart_minus_late_after": len(surely_late),
        "of_them_marked_late": sum(1 for f in surely_late if f.late),
        "of_them_NOT_marked_late": sum(1 for f in surely_late if not f.late),
        "due_within_late_after_of_restart": len(events) - len(surely_late),
    }


def describe(figures: dict[str, Any]) -> str:
    return (
        f"{figures['seen']:,}/{figures['expected']:,} events, {figures['missing']:,} not seen, "
        f"{figures['duplicated']:,} duplicated, {figures['other_threshold']:,} for another "
        f"threshold; lag {fmt(figures['lag_ms'])} (record timestamp - due), "
        f"read by the bench {fmt(figures['consumed_lag_ms'])}"
    )


def fmt(p: dict[str, float]) -> str:
    if not p:
        return "n/a"
    return " / ".join(f"{k} {p[k]:,.0f}" for k in ("p50", "p99", "max") if k in p) + " ms"


def summarize_sla(result: dict[str, Any]) -> None:
    steady, catch, arm = result["steady"], result["catch_up"], result["arming"]
    rss = result["rss_max_mib"]
    p99_s = steady["lag_ms"].get("p99", float("inf")) / 1000
    rows = [
        (
            f"load {result['clocks']:,} clocks (COPY)",
            f"{result['load']['seconds']:,.0f} s",
            "-",
            result["load"]["limit"],
        ),
        (
            f"steady lag p50/p99/max @{steady['rate_per_s']:.0f}/s",
            fmt(steady["lag_ms"]),
            f"p99 <= {GOAL_LAG_P99_S:.0f} s: {_verdict(p99_s <= GOAL_LAG_P99_S)}",
            steady["limit"],
        ),
        (
            "sla-watch max RSS",
            f"{max(rss.values(), default=0):,.0f} MiB",
            f"<= {GOAL_RSS_MIB:.0f} MB: {_verdict(max(rss.values(), default=0) <= GOAL_RSS_MIB)}",
            result["rss_limit"],
        ),
        (
            f"catch-up {catch['expected']:,} late events",
            f"{catch['all_out_s']:,.1f} s"
            + (f" ({catch['seen']:,} out by then)" if catch["missing"] else ""),
            f"<= {GOAL_CATCH_UP_S:.0f} s: "
            f"{_verdict(catch['missing'] == 0 and catch['all_out_s'] <= GOAL_CATCH_UP_S)}",
            catch["limit"],
        ),
        (
            f"arming {arm['complaints']:,} triaged",
            f"{arm['per_s']:,.0f} events/s",
            f"{100 * arm['ratio']:.3g}% of raw {arm['raw']['per_s']:,.0f}/s",
            arm["limit"],
        ),
    ]
    say()
    say("=" * 78)
    say("SLA SUMMARY")
    say("=" * 78)
    for figure, value, goal, limit in rows:
        say(f"{figure:<38}  {value:<26}  {goal}")
        say(f"    what limits it: {limit}")
    problems = [
        f"{name}: {n} {what}"
        for name, part in (("steady", steady), ("catch-up", catch))
        for what, n in (
            ("not seen within the wait", part["missing"]),
            ("duplicated", part["duplicated"]),
            ("for another threshold", part["other_threshold"]),
        )
        if n
    ]
    if catch["late_check"]["of_them_NOT_marked_late"]:
        problems.append(
            f"catch-up: {catch['late_check']['of_them_NOT_marked_late']} overdue events "
            "without late=true"
        )
    if arm["clocks"] != 2 * arm["complaints"]:
        problems.append(f"arming: {arm['clocks']:,} clocks for {arm['complaints']:,} complaints")
    say(
        "checks: "
        + (
            "; ".join(problems)
            if problems
            else "nothing missing or duplicated, "
            "every overdue catch-up event marked late, 2 clocks per complaint"
        )
    )


def _verdict(reached: bool) -> str:
    return "REACHED" if reached else "NOT reached"
