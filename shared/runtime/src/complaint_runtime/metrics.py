"""Prometheus metrics shared by every service (one registry per process)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds", "HTTP request latency", ["method", "route"]
)
OUTBOX_BACKLOG = Gauge("outbox_backlog", "Outbox rows not yet published to Kafka")
OUTBOX_OLDEST_AGE = Gauge(
    "outbox_oldest_age_seconds",
    "Age of the oldest outbox row not yet published to Kafka (0: the outbox is empty)",
)
KAFKA_REACHABLE = Gauge(
    "kafka_broker_reachable",
    "1 while the broker answers this process's producer, else 0 (still connecting, or away)",
)
OUTBOX_PUBLISHED = Counter("outbox_published_total", "Events published by the outbox relay")
OUTBOX_RELAY_ERRORS = Counter("outbox_relay_errors_total", "Failed relay rounds (retried)")
CONSUMER_LAG = Gauge(
    "consumer_lag", "Records behind the partition's high watermark", ["group", "topic", "partition"]
)
EVENTS_CONSUMED = Counter(
    "events_consumed_total", "Records handled by consumers", ["group", "topic", "outcome"]
)
DEAD_LETTERED = Counter(
    "dead_lettered_total", "Records sent to a dead-letter topic", ["group", "topic"]
)
