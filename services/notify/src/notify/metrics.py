"""Notify's Prometheus metrics (the runtime's registry, served on /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

DELIVERIES = Gauge("notify_deliveries", "Deliveries in the delivery log by status", ["status"])
OUTCOMES = Counter(
    "notify_delivery_outcomes_total",
    "Delivery attempts by outcome (sent, logged, retry, failed, skipped, uncertain; deferred: "
    "an acknowledgement waiting for its SLA due times)",
    ["outcome"],
)
UNCERTAIN = Counter(
    "notify_uncertain_deliveries_total",
    "Deliveries whose outcome is unknown (process died while sending); never resent",
)
