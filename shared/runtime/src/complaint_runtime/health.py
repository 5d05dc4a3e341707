"""What an operator watches but readiness must not depend on: whether the broker answers this
process, and the outbox backlog.

Readiness is the database alone: the transactional outbox keeps every event committed while
the broker is away and the relay publishes them when it is back, so a broker outage must
not take a service's HTTP API out of its load balancer. It shows up here instead, in
``kafka_broker_reachable``, ``outbox_backlog`` and ``outbox_oldest_age_seconds`` (alerts in
docs/architecture.md, "Operating it").
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer

from complaint_runtime import metrics
from complaint_runtime.consumer import is_transient
from complaint_runtime.database import Database
from complaint_runtime.outbox import measure_backlog
from complaint_runtime.periodic import PeriodicLoop

CHECK_TIMEOUT_S = 2.0
NOT_CONNECTED = "unavailable: not connected yet"


class DependencyProbe:
    """Measures the broker and the outbox every ``interval_s`` into the metrics, and keeps
    the broker's last status for ``/readyz``'s informational part (no broker round trip per
    readiness probe)."""

    def __init__(self, *, database: Database, interval_s: float):
        self._database = database
        self._producer: AIOKafkaProducer | None = None
        self.kafka = NOT_CONNECTED
        metrics.KAFKA_REACHABLE.set(0)
        self._loop = PeriodicLoop(
            self._round,
            name="health probe",
            tick_s=interval_s,
            max_backoff_s=interval_s,
            is_expected=is_transient,  # the database is away: readiness says so already
        )

    def connected(self, producer: AIOKafkaProducer) -> None:
        """The runtime's producer has started: measure through it from now on."""
        self._producer = producer
        self._loop.wake()

    async def check_kafka(self) -> str:
        """``ok``, or ``unavailable: <why>``; bounded by CHECK_TIMEOUT_S."""
        if self._producer is None:
            return NOT_CONNECTED
        try:
            answered = await asyncio.wait_for(
                self._producer.client.force_metadata_update(), timeout=CHECK_TIMEOUT_S
            )
        except Exception as exc:
            return f"unavailable: {type(exc).__name__}"
        return "ok" if answered else "unavailable: no metadata"

    async def run(self) -> None:
        await self._loop.run()

    def stop(self) -> None:
        self._loop.stop()

    async def measure(self) -> None:
        """One round: the broker, then the backlog (raises while the database is away)."""
        self.kafka = await self.check_kafka()
        metrics.KAFKA_REACHABLE.set(1 if self.kafka == "ok" else 0)
        backlog = await measure_backlog(self._database)
        metrics.OUTBOX_BACKLOG.set(backlog.rows)
        metrics.OUTBOX_OLDEST_AGE.set(backlog.oldest_age_s)

    async def _round(self) -> bool:
        await self.measure()
        return False
