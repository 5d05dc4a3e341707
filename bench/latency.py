"""End-to-end latency at a fixed open-loop rate: POST -> ``assigned`` visible in GET, and
POST -> the customer's acknowledgement e-mail accepted by the SMTP server.

Method: a Kafka consumer (no group; all partitions of the routing topic, and of intake's
topic when given, from their end) sees intake's ``complaint.received`` and routing's
``complaint.assigned`` events; from the assigned event on, and only then, the complaint is
polled with GET every ``poll_interval_s`` until intake shows ``assigned``. So the GET load is
a few requests per complaint, not a poll loop over every complaint in flight. Every complaint
is confirmed with one last GET at the end.

With ``email_prefix`` and ``mail`` every complaint carries its own customer e-mail address
(``<prefix>-<n>@customers.example.com``); the SMTP sink in this process timestamps the first
message accepted for that address, which is the acknowledgement (the only mail a customer
gets before resolution).

Times are taken in this process (monotonic clock): t0 = just before the POST is sent.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from complaint_contracts.events import ComplaintAssigned, ComplaintReceived
from loadgen import with_customer
from mailsink import MailSink

ASSIGNED_TYPE = ComplaintAssigned.ce_type().encode()
RECEIVED_TYPE = ComplaintReceived.ce_type().encode()


@dataclass
class Tracked:
    posted_at: float
    answered_at: float | None = None
    complaint_id: str | None = None
    status_code: int | None = None
    event_at: float | None = None
    visible_at: float | None = None
    polls: int = 0
    email: str | None = None
    received_at: float | None = None  # complaint.received seen on intake's topic
    ack_at: float | None = None  # acknowledgement accepted by the SMTP sink


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
    received_event_ms: dict[str, float] = field(default_factory=dict)
    acks_expected: int = 0
    acks_arrived: int = 0
    acks_missing: list[str] = field(default_factory=list)  # complaint ids, first 20
    acks_duplicated: int = 0
    ack_ms: dict[str, float] = field(default_factory=dict)
    ack_wait_s: float = 0.0
    items: list[Tracked] = field(default_factory=list)  # per complaint, not in as_dict

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "items"}


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
    intake_topic: str | None = None,
    mail: MailSink | None = None,
    email_prefix: str | None = None,
    ack_timeout_s: float = 60.0,
) -> LatencyResult:
    total = max(int(rate_per_s * duration_s), 1)
    tracked: list[Tracked] = []
    by_id: dict[str, Tracked] = {}
    early_events: dict[str, float] = {}  # assigned seen before the POST's answer was read
    early_received: dict[str, float] = {}
    templates = [json.loads(b) for b in bodies] if email_prefix else []
    # Customers of this run only: a warm-up and the measurement posting the same samples as
    # the same customers would be linked as duplicates of each other.
    first_customer = 10_000_000 + secrets.randbelow(80_000_000)
    track_acks = mail is not None and email_prefix is not None
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
        watched = [topic] + ([intake_topic] if intake_topic else [])

        def all_partitions() -> list[TopicPartition]:
            return [
                TopicPartition(t, p)
                for t in watched
                for p in sorted(consumer.partitions_for_topic(t) or [])
            ]

        partitions = all_partitions()
        if len({tp.topic for tp in partitions}) < len(watched):
            await consumer._client.force_metadata_update()
            partitions = all_partitions()
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        for tp in partitions:
            await consumer.position(tp)  # resolve "end" now, before the first POST

        async def poll_until_visible(item: Tracked) -> None:
            if item.complaint_id is None:
                raise RuntimeError("item.complaint_id is not set yet")
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
                        if record.key is None:
                            continue
                        cid = record.key.decode()
                        item = by_id.get(cid)
                        if ce_type == RECEIVED_TYPE:
                            if item is None:
                                early_received.setdefault(cid, now)
                            elif item.received_at is None:
                                item.received_at = now
                            continue
                        if ce_type != ASSIGNED_TYPE:
                            continue
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
            if cid in early_received:
                item.received_at = early_received.pop(cid)
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
            body = bodies[i % len(bodies)]
            email = None
            if email_prefix:
                email = f"{email_prefix}-{i}@customers.example.com"
                sample = templates[i % len(templates)]
                # A customer of its own per complaint, or routing would link the
                # samples' repeats as duplicates instead of assigning them.
                posted = with_customer(sample, first_customer + i)
                posted["customer"]["email"] = email
                body = json.dumps(posted, ensure_ascii=False).encode()
            item = Tracked(posted_at=time.monotonic(), email=email)
            tracked.append(item)
            senders.append(asyncio.create_task(post(item, body)))
            if time.monotonic() >= next_report:
                done = sum(1 for t in tracked if t.visible_at is not None)
                progress(f"    {i + 1}/{total} posted, {done} assigned and visible")
                next_report += 5
        send_window = time.monotonic() - started
        await asyncio.gather(*senders)
        sent_all = time.monotonic()

        def collect_acks() -> bool:
            waiting = False
            for t in tracked:
                if t.complaint_id is not None and t.email and t.ack_at is None:
                    if mail is None:
                        raise RuntimeError("mail is not set yet")
                    t.ack_at = mail.accepted_at(t.email)
                    waiting = waiting or t.ack_at is None
            return not waiting

        # Wait for the stragglers, then confirm every one with a single GET.
        deadline = time.monotonic() + settle_timeout_s
        ack_deadline = time.monotonic() + ack_timeout_s
        assigned_done = False
        while True:
            accepted = [t for t in tracked if t.complaint_id is not None]
            if not assigned_done:
                assigned_done = (
                    all(t.visible_at is not None for t in accepted) and not pollers
                ) or time.monotonic() >= deadline
            acks_done = not track_acks or collect_acks() or time.monotonic() >= ack_deadline
            if assigned_done and acks_done:
                break
            await asyncio.sleep(0.1)
        ack_wait = time.monotonic() - sent_all
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
    received_lat = [t.received_at - t.posted_at for t in accepted if t.received_at is not None]
    ack_lat = [t.ack_at - t.posted_at for t in accepted if t.ack_at is not None]
    expected = [t for t in accepted if t.email]
    missing = [t.complaint_id or "" for t in expected if t.ack_at is None]
    duplicated = (
        sum(1 for t in expected if mail.count_to(t.email or "") > 1) if mail is not None else 0
    )
    method = (
        "Kafka consumer on the routing topic catches complaint.assigned, then GET every "
        f"{poll_interval_s * 1000:.0f} ms until intake shows status=assigned; one "
        "confirming GET per complaint at the end"
    )
    if track_acks:
        method += (
            "; every complaint has its own customer e-mail address, and the SMTP sink in the "
            "bench process timestamps the first message accepted for it (end of DATA)"
        )
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
        method=method,
        errors=errors[:20],
        received_event_ms=percentiles_ms(received_lat),
        acks_expected=len(expected) if track_acks else 0,
        acks_arrived=len(ack_lat),
        acks_missing=missing[:20] if track_acks else [],
        acks_duplicated=duplicated,
        ack_ms=percentiles_ms(ack_lat),
        ack_wait_s=round(ack_wait, 1),
        items=tracked,
    )
