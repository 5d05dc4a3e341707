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
