"""sla-watch's Prometheus metrics (the runtime's shared ones are in complaint_runtime)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

CLOCKS_RUNNING = Gauge(
    "sla_clocks_running", "SLA clocks counting now (recounted from the database)", ["metric"]
)
EVENTS_FIRED = Counter(
    "sla_events_fired_total", "SLA warnings and breaches staged for sending", ["kind", "late"]
)
FIRE_ROUNDS = Counter("sla_fire_rounds_total", "Rounds of the firing loop", ["outcome"])
FIRE_FAILURES = Counter(
    "sla_fire_failures_total", "Clocks whose firing failed (skipped, retried next tick)"
)
CLOCKS_RECOMPUTED = Counter(
    "sla_recompute_clocks_total",
    "Open clocks recomputed after a policy or calendar change",
    ["moved"],
)
RECOMPUTE_JOBS_FINISHED = Counter("sla_recompute_jobs_total", "Recompute jobs finished", ["state"])
RECOMPUTE_FAILURES = Counter(
    "sla_recompute_clock_failures_total", "Open clocks a recompute job could not reschedule"
)
