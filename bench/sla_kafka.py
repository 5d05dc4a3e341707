"""Kafka side of the sla phase: watching sla-watch's topic, a backlog of triaged events,
the raw consume rate of that backlog, and placing consumer groups at given offsets.

Times of emitted events are the Kafka record timestamps (CreateTime: when sla-watch's
outbox relay handed the record to its producer), in epoch seconds; the bench's own
consumption time is kept as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from complaint_contracts import topics
from complaint_contracts.envelope import encode
from complaint_contracts.events import (
    ComplaintTriaged,
    SlaBreached,
    SlaClockStarted,
    SlaWarning,
)
from complaint_contracts.vocabulary import CATEGORIES, Priority

WARNING = SlaWarning.ce_type().encode()
BREACHED = SlaBreached.ce_type().encode()
CLOCK_STARTED = SlaClockStarted.ce_type().encode()


@dataclass(frozen=True)
class Fired:
    """One warning or breach seen on the topic."""

    clock_id: str
    percent: int  # 100 = breach
    due: float  # reached_at (warning) or due_at (breach), epoch seconds
    late: bool
    sent: float  # Kafka record timestamp
    consumed: float  # when the bench read it


@dataclass
class SlaTopicWatch:
    """Reads every partition of the sla topic from its end at :meth:`start` on (no group)."""

    bootstrap_servers: str
    fired: list[Fired] = field(default_factory=list)
    started: dict[str, list[float]] = field(default_factory=dict)  # complaint -> timestamps
    other_types: dict[str, int] = field(default_factory=dict)
    _consumer: AIOKafkaConsumer | None = None
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            enable_auto_commit=False,
            fetch_max_wait_ms=50,  # the lag is measured on record timestamps; this is a check
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )
        await consumer.start()
        parts = [TopicPartition(topics.SLA.name, p) for p in range(topics.SLA.partitions)]
        consumer.assign(parts)
        await consumer.seek_to_end(*parts)
        for part in parts:
            await consumer.position(part)  # resolve "end" now, not at the first fetch
        self._consumer = consumer
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()

    async def _run(self) -> None:
        if self._consumer is None:
            raise RuntimeError("_consumer is not set yet")
        while True:
            batches = await self._consumer.getmany(timeout_ms=100, max_records=10_000)
            now = time.time()
            for records in batches.values():
                for record in records:
                    self._take(record.headers, record.value, record.timestamp / 1000, now)

    def _take(self, headers: object, value: bytes | None, sent: float, now: float) -> None:
        ce_type = next((v for k, v in headers if k == "ce_type"), b"")  # type: ignore[attr-defined]
        if ce_type not in (WARNING, BREACHED, CLOCK_STARTED):
            name = ce_type.decode(errors="replace").rsplit(".", 2)[-2] if ce_type else "?"
            self.other_types[name] = self.other_types.get(name, 0) + 1
            return
        data = json.loads(value or b"{}")
        if ce_type == CLOCK_STARTED:
            self.started.setdefault(data["complaint_id"], []).append(sent)
            return
        breach = ce_type == BREACHED
        due = datetime.fromisoformat(data["due_at" if breach else "reached_at"]).timestamp()
        self.fired.append(
            Fired(
                clock_id=data["clock_id"],
                percent=100 if breach else int(data["percent"]),
                due=due,
                late=bool(data.get("late")),
                sent=sent,
                consumed=now,
            )
        )


async def end_offsets(bootstrap_servers: str, topic: str, partitions: int) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(partitions)]
        ends = await consumer.end_offsets(parts)
        return {tp.partition: offset for tp, offset in ends.items()}
    finally:
        await consumer.stop()


async def place_group(
    bootstrap_servers: str, group_id: str, offsets: dict[str, dict[int, int]]
) -> None:
    """Commit ``offsets`` (topic -> partition -> offset) for a group that is not running,
    so its next member starts exactly there."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, group_id=group_id, enable_auto_commit=False
    )
    await consumer.start()
    try:
        wanted = {
            TopicPartition(topic, p): offset
            for topic, parts in offsets.items()
            for p, offset in parts.items()
        }
        consumer.assign(list(wanted))
        await consumer.commit(wanted)
    finally:
        await consumer.stop()


async def produce_triaged(bootstrap_servers: str, count: int, *, seed: int = 11) -> list[str]:
    """``count`` valid ``complaint.triaged`` events on the routing topic, key = subject =
    complaint id, as routing would publish them; returns the complaint ids."""
    rng = random.Random(seed)
    priorities: tuple[Priority, ...] = ("P1", "P2", "P3", "P4")
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers, acks="all", linger_ms=20, max_batch_size=256 * 1024
    )
    await producer.start()
    ids = []
    try:
        pending = []
        for i in range(count):
            complaint_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            ids.append(complaint_id)
            data = ComplaintTriaged(
                complaint_id=complaint_id,
                category=CATEGORIES[i % len(CATEGORIES)],
                confidence=0.9,
                priority=priorities[i % len(priorities)],
                emotion="yellow",
                channel="web",
                customer_tier="standard",
            )
            _, record = encode(
                data,
                topic=topics.ROUTING.name,
                source=topics.ROUTING.producer,
                subject=complaint_id,
                time=datetime.now(UTC),
            )
            pending.append(
                await producer.send(
                    record.topic, record.value, key=record.key, headers=list(record.headers)
                )
            )
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return ids


async def raw_consume(
    bootstrap_servers: str, *, start: dict[int, int], count: int, timeout_s: float = 120
) -> dict[str, float]:
    """A plain aiokafka consumer in a fresh group (placed at ``start``) reads ``count``
    records of the routing topic: only fetching, no decoding, no database."""
    group = f"bench-raw-{uuid.uuid4().hex[:8]}"
    await place_group(bootstrap_servers, group, {topics.ROUTING.name: start})
    consumer = AIOKafkaConsumer(
        topics.ROUTING.name,
        bootstrap_servers=bootstrap_servers,
        group_id=group,
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    t0 = time.monotonic()
    await consumer.start()
    seen = 0
    first = last = 0.0
    try:
        while seen < count and time.monotonic() - t0 < timeout_s:
            batches = await consumer.getmany(timeout_ms=200, max_records=500)
            for records in batches.values():
                if records and not first:
                    first = time.monotonic()
                seen += len(records)
            if batches:
                last = time.monotonic()
        await consumer.commit()
    finally:
        await consumer.stop()
    steady = last - first
    return {
        "records": seen,
        "from_start_s": round(last - t0, 2),
        "first_to_last_s": round(steady, 2),
        "per_s": round(seen / steady, 1) if steady > 0 else 0.0,
        "per_s_from_start": round(seen / (last - t0), 1) if last > t0 else 0.0,
    }
