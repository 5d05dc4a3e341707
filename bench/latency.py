"""End-to-end latency at a fixed open-loop rate: POST -> ``assigned`` visible in GET.

Method: a Kafka consumer (no group; all partitions of ``complaints.routing.v1`` from their
end) sees routing's ``complaint.assigned`` event; from that moment, and only then, the
complaint is polled with GET every ``poll_interval_s`` until intake shows ``assigned``.
So the GET load is a few requests per complaint, not a poll loop over every complaint in
flight. Every complaint is confirmed with one last GET at the end.

Times are taken in this process (monotonic clock): t0 = just before the POST is sent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from complaint_contracts.events import ComplaintAssigned

ASSIGNED_TYPE = ComplaintAssigned.ce_type().encode()


@dataclass
class Tracked:
    posted_at: float
    answered_at: float | None = None
    complaint_id: str | None = None
    status_code: int | None = None
    event_at: float | None = None
    visible_at: float | None = None
    polls: int = 0


@dataclass
class LatencyResult:
    rate_per_s: float
    duration_s: float
    sent: int
    accepted: int
    assigned_event: int
    assigned_visible: int
    confirmed_by_get: int
    get_requests: int
    post_ms: dict[str, float]
    event_ms: dict[str, float]
    visible_ms: dict[str, float]
    achieved_rate_per_s: float
    late_sends: int
    method: str
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def percentiles_ms(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def at(q: float) -> float:
        index = min(round(q * (len(ordered) - 1)), len(ordered) - 1)
        return round(ordered[index] * 1000, 1)

    return {
        "p50": at(0.50),
        "p90": at(0.90),
        "p99": at(0.99),
        "max": round(ordered[-1] * 1000, 1),
        "mean": round(sum(ordered) / len(ordered) * 1000, 1),
    }


async def run_latency(
    *,
    intake_url: str,
    api_key: str,
    bootstrap_servers: str,
    topic: str,
    bodies: Sequence[bytes],
    rate_per_s: float,
    duration_s: float,
    settle_timeout_s: float = 30.0,
    poll_interval_s: float = 0.01,
    progress: Callable[[str], None] = print,
) -> LatencyResult:
    total = max(int(rate_per_s * duration_s), 1)
    tracked: list[Tracked] = []
    by_id: dict[str, Tracked] = {}
    early_events: dict[str, float] = {}  # assigned seen before the POST's answer was read
    pollers: set[asyncio.Task[None]] = set()
    counters = {"get": 0}
    errors: list[str] = []

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    client = httpx.AsyncClient(
        base_url=intake_url, headers={"X-API-Key": api_key}, timeout=30, limits=limits
    )
    try:
        partitions = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])
        ]
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = [
                TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])
            ]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        for tp in partitions:
            await consumer.position(tp)  # resolve "end" now, before the first POST

        async def poll_until_visible(item: Tracked) -> None:
            assert item.complaint_id is not None
            deadline = time.monotonic() + settle_timeout_s
            while time.monotonic() < deadline:
                item.polls += 1
                counters["get"] += 1
                answer = await client.get(f"/v1/complaints/{item.complaint_id}")
                if answer.status_code == 200 and answer.json()["status"] == "assigned":
                    item.visible_at = time.monotonic()
                    return
                await asyncio.sleep(poll_interval_s)

        def start_polling(item: Tracked) -> None:
            task = asyncio.create_task(poll_until_visible(item))
            pollers.add(task)
            task.add_done_callback(pollers.discard)

        stop_consuming = asyncio.Event()

        async def consume() -> None:
            while not stop_consuming.is_set():
                batches = await consumer.getmany(timeout_ms=50)
                now = time.monotonic()
                for records in batches.values():
                    for record in records:
                        ce_type = dict(record.headers).get("ce_type")
                        if ce_type != ASSIGNED_TYPE or record.key is None:
                            continue
                        cid = record.key.decode()
                        item = by_id.get(cid)
                        if item is None:
                            early_events.setdefault(cid, now)
                        elif item.event_at is None:
                            item.event_at = now
                            start_polling(item)

        async def post(item: Tracked, body: bytes) -> None:
            try:
                answer = await client.post(
                    "/v1/complaints", content=body, headers={"Content-Type": "application/json"}
                )
            except httpx.HTTPError as exc:
                errors.append(f"POST: {exc!r}")
                return
            item.answered_at = time.monotonic()
            item.status_code = answer.status_code
            if answer.status_code != 201:
                errors.append(f"POST answered {answer.status_code}: {answer.text[:200]}")
                return
            cid = answer.json()["id"]
            item.complaint_id = cid
            by_id[cid] = item
            if cid in early_events:
                item.event_at = early_events.pop(cid)
                start_polling(item)

        consumer_task = asyncio.create_task(consume())
        senders: list[asyncio.Task[None]] = []
        late = 0
        started = time.monotonic()
        next_report = started + 5
        for i in range(total):
            due = started + i / rate_per_s
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.005:
                late += 1
            item = Tracked(posted_at=time.monotonic())
            tracked.append(item)
            senders.append(asyncio.create_task(post(item, bodies[i % len(bodies)])))
            if time.monotonic() >= next_report:
                done = sum(1 for t in tracked if t.visible_at is not None)
                progress(f"    {i + 1}/{total} posted, {done} assigned and visible")
                next_report += 5
        send_window = time.monotonic() - started
        await asyncio.gather(*senders)
        # Wait for the stragglers, then confirm every one with a single GET.
        deadline = time.monotonic() + settle_timeout_s
        while time.monotonic() < deadline:
            accepted = [t for t in tracked if t.complaint_id is not None]
            if all(t.visible_at is not None for t in accepted) and not pollers:
                break
            await asyncio.sleep(0.1)
        stop_consuming.set()
        await consumer_task
        for task in list(pollers):
            task.cancel()
        await asyncio.gather(*pollers, return_exceptions=True)

        accepted = [t for t in tracked if t.complaint_id is not None]
        confirmed = 0
        for chunk_start in range(0, len(accepted), 50):
            chunk = accepted[chunk_start : chunk_start + 50]
            answers = await asyncio.gather(
                *(client.get(f"/v1/complaints/{t.complaint_id}") for t in chunk)
            )
            confirmed += sum(
                1 for a in answers if a.status_code == 200 and a.json()["status"] == "assigned"
            )
    finally:
        await client.aclose()
        await consumer.stop()

    post_lat = [t.answered_at - t.posted_at for t in accepted if t.answered_at is not None]
    event_lat = [t.event_at - t.posted_at for t in accepted if t.event_at is not None]
    visible_lat = [t.visible_at - t.posted_at for t in accepted if t.visible_at is not None]
    return LatencyResult(
        rate_per_s=rate_per_s,
        duration_s=duration_s,
        sent=len(tracked),
        accepted=len(accepted),
        assigned_event=len(event_lat),
        assigned_visible=len(visible_lat),
        confirmed_by_get=confirmed,
        get_requests=counters["get"],
        post_ms=percentiles_ms(post_lat),
        event_ms=percentiles_ms(event_lat),
        visible_ms=percentiles_ms(visible_lat),
        achieved_rate_per_s=round(len(tracked) / send_window, 1) if send_window > 0 else 0.0,
        late_sends=late,
        method=(
            "Kafka consumer on the routing topic catches complaint.assigned, then GET every "
            f"{poll_interval_s * 1000:.0f} ms until intake shows status=assigned; one "
            "confirming GET per complaint at the end"
        ),
        errors=errors[:20],
    )
