"""The platform phases' summary table: each figure, its baseline, and what limits it."""

from __future__ import annotations

import argparse
from typing import Any

from common import busiest, say
from latency import LatencyResult
from loadgen import LoadResult
from overload import verdict
from resources import describe_costs

GOAL_RATIO = 0.25
# Issue 13's goals (targets for the closing note, never a test's pass mark).
GOAL_DRAIN_MILESTONE = 150.0  # complaints/s drained to assigned, first milestone
GOAL_DRAIN = 300.0
GOAL_POST_P99_MS = 50.0  # at 20/s open loop
GOAL_VISIBLE_MS = {"p50": 150.0, "p99": 500.0}
GOAL_ACK_MS = {"p50": 300.0, "p99": 1000.0}
SERVICE_NAMES = ("intake", "routing", "sla-watch", "feedback", "notify")


def _intake_limit(cpu: dict[str, float], activity: dict[str, Any] | None, lg: str) -> str:
    waits = (activity or {}).get("avg_connections_by_state", {})
    lock_wait = sum(v for k, v in waits.items() if "Lock:" in k and "LWLock" not in k)
    lwlock = sum(v for k, v in waits.items() if "LWLock:" in k)
    in_tx_idle = sum(v for k, v in waits.items() if k.startswith("idle in transaction"))
    active_cpu = sum(v for k, v in waits.items() if k.startswith("active / on CPU"))
    wal = sum(v for k, v in waits.items() if "WAL" in k)
    others = sum(cpu.get(name, 0) for name in SERVICE_NAMES if name != "intake")
    return (
        f"intake at {cpu.get('intake', 0):.0f}% of a core; the other four services "
        f"{others:.0f}%, postgres {cpu.get('postgres', 0):.0f}%, kafka "
        f"{cpu.get('kafka', 0):.0f}%, {lg} {cpu.get(lg, 0):.0f}%, other processes "
        f"{cpu.get('other processes', 0):.0f}%, machine {cpu.get('machine', 0):.0f}% of 2 "
        f"cores; intake's DB connections on average: {lock_wait:.1f} waiting on a lock, "
        f"{lwlock:.1f} on an LWLock, {wal:.1f} on WAL, {active_cpu:.1f} executing, "
        f"{in_tx_idle:.1f} idle in transaction (PostgreSQL waiting for intake's process)"
    )


Row = tuple[str, str, str, str, str]


def _latency_high_rows(high: dict[str, Any] | None) -> list[Row]:
    """The latency_100 phase: POST answer, POST -> assigned and POST -> ack at the high rate."""
    if not high:
        return []
    rate = high.get("achieved_rate_per_s", 0)
    post, vis, ack = high.get("post_ms", {}), high.get("visible_ms", {}), high.get("ack_ms", {})
    cpu = high.get("cpu_pct", {})

    def p50_p99(p: dict[str, float]) -> str:
        return f"{p.get('p50', 0):,.0f} / {p.get('p99', 0):,.0f} ms"

    load = (
        f"intake {cpu.get('intake', 0):.0f}%, routing {cpu.get('routing', 0):.0f}%, notify "
        f"{cpu.get('notify', 0):.0f}%, postgres {cpu.get('postgres', 0):.0f}%, machine "
        f"{cpu.get('machine', 0):.0f}% of 2 cores"
    )
    return [
        (f"POST answer p50 / p99 @{rate:.0f}/s", p50_p99(post), "-", "-", load),
        (
            f"POST->assigned p50 / p99 @{rate:.0f}/s",
            p50_p99(vis),
            "-",
            "-",
            f"{high.get('assigned_visible', 0)}/{high.get('accepted', 0)} assigned and visible"
            f", {high.get('late_sends', 0)} late sends",
        ),
        (
            f"POST->ack e-mail p50 / p99 @{rate:.0f}/s",
            p50_p99(ack),
            "-",
            "-",
            f"{high.get('acks_arrived', 0)}/{high.get('acks_expected', 0)} acknowledgements "
            f"arrived; waited {high.get('ack_wait_s', 0)} s after the last POST",
        ),
    ]


def _overload_rows(o: dict[str, Any] | None) -> list[Row]:
    """The overload phase: answers by status, latency, and whether it grows."""
    if not o:
        return []
    a, ra = o["answers"], o["retry_after"]
    errors = sum(a["connection_errors"].values())
    others = sum(a["other"].values())
    shed = a["503"] + a["429"]
    p201, pall = o["post_ms_201"], o["post_ms_all"]
    accepted = a["201"] / max(o["answers_done_after_s"], 1e-9)
    return [
        (
            f"overload {o['factor']:g}x: offered/achieved",
            f"{o['offered_rate_per_s']:,.0f} / {o['achieved_rate_per_s']:,.0f}/s",
            f"{o['sustained_rate_per_s']:,.0f}/s",
            f"{o['factor']:g}x",
            f"answers 201 {a['201']:,}, 503 {a['503']:,}, 429 {a['429']:,}, other {others:,}, "
            f"connection errors {errors:,} of {o['sent']:,} sent; Retry-After on "
            f"{ra['503']['with'] + ra['429']['with']}/{shed} 503/429s",
        ),
        (
            "overload accepted 201/s",
            f"{accepted:,.0f}/s",
            f"{o['sustained_rate_per_s']:,.0f}/s",
            f"{100 * accepted / max(o['sustained_rate_per_s'], 1e-9):.0f}%",
            f"201s over {o['answers_done_after_s']} s until the last answer "
            f"(sent in {o['send_window_s']} s); peak {o['peak_connections']} connections",
        ),
        (
            "overload POST p50 / p99, all answers",
            f"{pall.get('p50', 0):,.0f} / {pall.get('p99', 0):,.0f} ms",
            "-",
            "-",
            f"201s only: p50 {p201.get('p50', 0):,.0f} / p99 {p201.get('p99', 0):,.0f} ms; "
            + verdict(o),
        ),
    ]


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
    rows += _latency_high_rows(results.get("latency_100"))
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
        if "acknowledged_per_s" in drain:
            rows.append(
                (
                    "backlog acknowledged (notify)",
                    f"{drain['acknowledged_per_s']:,.0f}/s",
                    f"{thr.rate(201):,.0f}/s",
                    f"{100 * drain['acknowledged_per_s'] / max(thr.rate(201), 1e-9):.0f}%",
                    f"notify {drain['cpu_pct'].get('notify', 0):.0f}%, intake "
                    f"{drain['cpu_pct'].get('intake', 0):.0f}% (contact lookups), postgres "
                    f"{drain['cpu_pct'].get('postgres', 0):.0f}% CPU; "
                    f"{drain['acknowledged_in_drain']:,} in {drain['acknowledged_seconds']} s"
                    + ("" if drain["acknowledged_complete"] else " (timed out)"),
                )
            )
    rows += _overload_rows(results.get("overload"))
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
    if drain and drain.get("cpu_ms_per_complaint"):
        describe_costs(drain, indent="")
        say("-" * 82)
    reached_ratio = ratio >= GOAL_RATIO
    goals = _goals(results, lat, ratio)
    for line, reached in goals:
        say(f"goal {line}: {'REACHED' if reached else 'NOT reached'}")
    reached_rate = all(reached for line, reached in goals if line.startswith("drain"))
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
            ("latency_100", (results.get("latency_100") or {}).get("cpu_pct", {})),
            ("drain", (drain or {}).get("cpu_pct", {})),
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
        "latency_100_visible_ms": (results.get("latency_100") or {}).get("visible_ms", {}),
        "latency_100_ack_ms": (results.get("latency_100") or {}).get("ack_ms", {}),
        "drain_assigned_per_s": (drain or {}).get("assigned_per_s"),
        "drain_acknowledged_per_s": (drain or {}).get("acknowledged_per_s"),
        "drain_cpu_ms_per_complaint": (drain or {}).get("cpu_ms_per_complaint"),
        "overload_answers": (results.get("overload") or {}).get("answers"),
        "goal_rate_reached": reached_rate,
        "goal_ratio_reached": reached_ratio,
        "goals": dict(goals),
        "what_limits": {
            "baseline": base_limit,
            "intake": intake_limit,
            "intake_alone": alone_limit,
            "latency": lat_limit,
            "ack": ack_limit,
            "drain_cost": (drain or {}).get("cost_busiest"),
        },
    }


def _goals(results: dict[str, Any], lat: LatencyResult, ratio: float) -> list[tuple[str, bool]]:
    """Issue 13's goals, each with the figure measured, and whether it is reached."""
    drain = results.get("drain") or {}
    assigned = float(drain.get("assigned_per_s") or 0.0)
    post, visible, ack = lat.post_ms, lat.visible_ms, lat.ack_ms

    def at_most(p: dict[str, float], key: str, limit: float) -> bool:
        return bool(p) and p.get(key, float("inf")) <= limit

    return [
        (
            f"drain >= {GOAL_DRAIN_MILESTONE:.0f}/s to assigned (milestone) ({assigned:,.1f}/s)",
            assigned >= GOAL_DRAIN_MILESTONE,
        ),
        (f"drain >= {GOAL_DRAIN:.0f}/s to assigned ({assigned:,.1f}/s)", assigned >= GOAL_DRAIN),
        (
            f"POST p99 <= {GOAL_POST_P99_MS:.0f} ms at 20/s ({post.get('p99', 0):,.0f} ms)",
            at_most(post, "p99", GOAL_POST_P99_MS),
        ),
        (
            f"POST->assigned p50 <= {GOAL_VISIBLE_MS['p50']:.0f} ms, p99 <= "
            f"{GOAL_VISIBLE_MS['p99']:.0f} ms ({visible.get('p50', 0):,.0f} / "
            f"{visible.get('p99', 0):,.0f} ms)",
            all(at_most(visible, k, v) for k, v in GOAL_VISIBLE_MS.items()),
        ),
        (
            f"POST->ack p50 <= {GOAL_ACK_MS['p50']:.0f} ms, p99 <= {GOAL_ACK_MS['p99']:.0f} ms "
            f"({ack.get('p50', 0):,.0f} / {ack.get('p99', 0):,.0f} ms)",
            all(at_most(ack, k, v) for k, v in GOAL_ACK_MS.items()),
        ),
        (
            f">= {100 * GOAL_RATIO:.0f}% of the bare endpoint ({100 * ratio:.1f}%)",
            ratio >= GOAL_RATIO,
        ),
    ]
