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
    poll_errors: int = 0  # polling GETs that got no answer (retried)
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


@dataclass(frozen=True)
class _Complaints:
    """What the n-th POST of a run sends, and the customer e-mail address it carries."""

    bodies: Sequence[bytes]
    email_prefix: str | None
    templates: list[dict[str, Any]]  # the bodies parsed, only when e-mails are tracked
    first_customer: int

    @classmethod
    def for_run(cls, bodies: Sequence[bytes], email_prefix: str | None) -> _Complaints:
        return cls(
            bodies=bodies,
            email_prefix=email_prefix,
            templates=[json.loads(b) for b in bodies] if email_prefix else [],
            # Customers of this run only: a warm-up and the measurement posting the same
            # samples as the same customers would be linked as duplicates of each other.
            first_customer=10_000_000 + secrets.randbelow(80_000_000),
        )

    def body(self, n: int) -> tuple[bytes, str | None]:
        body = self.bodies[n % len(self.bodies)]
        if not self.email_prefix:
            return body, None
        email = f"{self.email_prefix}-{n}@customers.example.com"
        sample = self.templates[n % len(self.templates)]
        # A customer of its own per complaint, or routing would link the
        # samples' repeats as duplicates instead of assigning them.
        posted = with_customer(sample, self.first_customer + n)
        posted["customer"]["email"] = email
        return json.dumps(posted, ensure_ascii=False).encode(), email


class _LatencyRun:
    """One run of ``run_latency``: the state its steps share, and one method per step."""

    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        consumer: AIOKafkaConsumer,
        watched_topics: list[str],
        complaints: _Complaints,
        total: int,
        rate_per_s: float,
        duration_s: float,
        settle_timeout_s: float,
        poll_interval_s: float,
        progress: Callable[[str], None],
        mail: MailSink | None,
        ack_timeout_s: float,
    ) -> None:
        self.client = client
        self.consumer = consumer
        self.watched_topics = watched_topics
        self.complaints = complaints
        self.total = total
        self.rate_per_s = rate_per_s
        self.duration_s = duration_s
        self.settle_timeout_s = settle_timeout_s
        self.poll_interval_s = poll_interval_s
        self.progress = progress
        self.mail = mail
        self.track_acks = mail is not None and complaints.email_prefix is not None
        self.ack_timeout_s = ack_timeout_s

        self.tracked: list[Tracked] = []  # one per POST, in the order sent
        self.by_id: dict[str, Tracked] = {}
        # Events the consumer saw before the POST's answer (the complaint id) was read.
        self.early_assigned: dict[str, float] = {}
        self.early_received: dict[str, float] = {}
        self.pollers: set[asyncio.Task[None]] = set()
        self.stop_consuming = asyncio.Event()
        self.get_requests = 0  # the polling GETs; the confirming GETs are not counted
        self.poll_errors = 0  # polls that got no answer (a connection closed under them)
        self.errors: list[str] = []
        self.late_sends = 0
        self.send_window_s = 0.0
        self.ack_wait_s = 0.0
        self.confirmed_by_get = 0

    async def measure(self) -> None:
        """Every step but the result; the caller closes the client and the consumer."""
        await self.open_at_end()
        consumer_task = asyncio.create_task(self.consume_events())
        await self.send_at_rate()
        sent_all = time.monotonic()
        await self.wait_for_stragglers_and_acks(sent_all)
        await self.stop_watching(consumer_task)
        await self.confirm_by_get()

    def _partitions(self) -> list[TopicPartition]:
        return [
            TopicPartition(t, p)
            for t in self.watched_topics
            for p in sorted(self.consumer.partitions_for_topic(t) or [])
        ]

    async def open_at_end(self) -> None:
        """Assign all partitions of the watched topics to the consumer, from their end."""
        partitions = self._partitions()
        # A topic missing from the consumer's metadata has no partitions yet: refresh once.
        if len({tp.topic for tp in partitions}) < len(self.watched_topics):
            await self.consumer._client.force_metadata_update()
            partitions = self._partitions()
        self.consumer.assign(partitions)
        await self.consumer.seek_to_end(*partitions)
        for tp in partitions:
            await self.consumer.position(tp)  # resolve "end" now, before the first POST

    async def consume_events(self) -> None:
        """Timestamp the received and assigned events until ``stop_consuming`` is set."""
        while not self.stop_consuming.is_set():
            batches = await self.consumer.getmany(timeout_ms=50)
            now = time.monotonic()
            for records in batches.values():
                for record in records:
                    ce_type = dict(record.headers).get("ce_type")
                    self._on_event(record.key, ce_type, now)

    def _on_event(self, key: bytes | None, ce_type: bytes | None, now: float) -> None:
        if key is None:
            return
        cid = key.decode()
        item = self.by_id.get(cid)
        if ce_type == RECEIVED_TYPE:
            if item is None:
                self.early_received.setdefault(cid, now)
            elif item.received_at is None:
                item.received_at = now
        elif ce_type == ASSIGNED_TYPE:
            if item is None:
                self.early_assigned.setdefault(cid, now)
            elif item.event_at is None:
                item.event_at = now
                self._start_polling(item)

    async def post_complaint(self, item: Tracked, body: bytes) -> None:
        try:
            answer = await self.client.post(
                "/v1/complaints", content=body, headers={"Content-Type": "application/json"}
            )
        except httpx.HTTPError as exc:
            self.errors.append(f"POST: {exc!r}")
            return
        item.answered_at = time.monotonic()
        item.status_code = answer.status_code
        if answer.status_code != 201:
            self.errors.append(f"POST answered {answer.status_code}: {answer.text[:200]}")
            return
        cid = answer.json()["id"]
        item.complaint_id = cid
        self.by_id[cid] = item
        if cid in self.early_received:
            item.received_at = self.early_received.pop(cid)
        if cid in self.early_assigned:
            item.event_at = self.early_assigned.pop(cid)
            self._start_polling(item)

    def _start_polling(self, item: Tracked) -> None:
        task = asyncio.create_task(self.poll_until_visible(item))
        self.pollers.add(task)
        task.add_done_callback(self.pollers.discard)

    async def poll_until_visible(self, item: Tracked) -> None:
        if item.complaint_id is None:
            raise RuntimeError("item.complaint_id is not set yet")
        deadline = time.monotonic() + self.settle_timeout_s
        while time.monotonic() < deadline:
            item.polls += 1
            self.get_requests += 1
            try:
                answer = await self.client.get(f"/v1/complaints/{item.complaint_id}")
            except httpx.TransportError:
                # A kept-alive connection the server closed as it was reused (or an
                # overloaded server): this poll tells nothing, the next one will.
                self.poll_errors += 1
                await asyncio.sleep(self.poll_interval_s)
                continue
            if answer.status_code == 200 and answer.json()["status"] == "assigned":
                item.visible_at = time.monotonic()
                return
            await asyncio.sleep(self.poll_interval_s)

    async def send_at_rate(self) -> None:
        """Start one POST every 1/rate s whatever the answers (open loop); await them all."""
        senders: list[asyncio.Task[None]] = []
        started = time.monotonic()
        next_report = started + 5
        for i in range(self.total):
            due = started + i / self.rate_per_s
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.005:
                self.late_sends += 1
            body, email = self.complaints.body(i)
            item = Tracked(posted_at=time.monotonic(), email=email)
            self.tracked.append(item)
            senders.append(asyncio.create_task(self.post_complaint(item, body)))
            if time.monotonic() >= next_report:
                done = sum(1 for t in self.tracked if t.visible_at is not None)
                self.progress(f"    {i + 1}/{self.total} posted, {done} assigned and visible")
                next_report += 5
        self.send_window_s = time.monotonic() - started
        await asyncio.gather(*senders)

    def _accepted(self) -> list[Tracked]:
        return [t for t in self.tracked if t.complaint_id is not None]

    def _collect_acks(self) -> bool:
        """Take the sink's time for acknowledgements not seen yet; True if none is missing."""
        waiting = False
        for t in self.tracked:
            if t.complaint_id is not None and t.email and t.ack_at is None:
                if self.mail is None:
                    raise RuntimeError("mail is not set yet")
                t.ack_at = self.mail.accepted_at(t.email)
                waiting = waiting or t.ack_at is None
        return not waiting

    async def wait_for_stragglers_and_acks(self, sent_all: float) -> None:
        """Wait until every accepted complaint is visible as assigned and no poller is left
        (at most ``settle_timeout_s``), and every acknowledgement has arrived (at most
        ``ack_timeout_s``)."""
        deadline = time.monotonic() + self.settle_timeout_s
        ack_deadline = time.monotonic() + self.ack_timeout_s
        assigned_done = False
        while True:
            if not assigned_done:
                assigned_done = (
                    all(t.visible_at is not None for t in self._accepted()) and not self.pollers
                ) or time.monotonic() >= deadline
            acks_done = (
                not self.track_acks or self._collect_acks() or time.monotonic() >= ack_deadline
            )
            if assigned_done and acks_done:
                break
            await asyncio.sleep(0.1)
        self.ack_wait_s = time.monotonic() - sent_all

    async def stop_watching(self, consumer_task: asyncio.Task[None]) -> None:
        self.stop_consuming.set()
        await consumer_task
        for task in list(self.pollers):
            task.cancel()
        await asyncio.gather(*self.pollers, return_exceptions=True)

    async def confirm_by_get(self) -> None:
        """One GET per accepted complaint, 50 at a time: is it assigned in the end?"""
        accepted = self._accepted()
        for chunk_start in range(0, len(accepted), 50):
            chunk = accepted[chunk_start : chunk_start + 50]
            answers = await asyncio.gather(
                *(self.client.get(f"/v1/complaints/{t.complaint_id}") for t in chunk),
                return_exceptions=True,
            )
            for answer in answers:
                if isinstance(answer, BaseException):
                    self.errors.append(f"confirming GET: {answer!r}")
                elif answer.status_code == 200 and answer.json()["status"] == "assigned":
                    self.confirmed_by_get += 1

    def _method(self) -> str:
        method = (
            "Kafka consumer on the routing topic catches complaint.assigned, then GET every "
            f"{self.poll_interval_s * 1000:.0f} ms until intake shows status=assigned; one "
            "confirming GET per complaint at the end"
        )
        if self.track_acks:
            method += (
                "; every complaint has its own customer e-mail address, and the SMTP sink in "
                "the bench process timestamps the first message accepted for it (end of DATA)"
            )
        return method

    def result(self) -> LatencyResult:
        """The figures; call once the run has ended (no task changes ``tracked`` any more)."""
        accepted = self._accepted()
        post_lat = [t.answered_at - t.posted_at for t in accepted if t.answered_at is not None]
        event_lat = [t.event_at - t.posted_at for t in accepted if t.event_at is not None]
        visible_lat = [t.visible_at - t.posted_at for t in accepted if t.visible_at is not None]
        received_lat = [t.received_at - t.posted_at for t in accepted if t.received_at is not None]
        ack_lat = [t.ack_at - t.posted_at for t in accepted if t.ack_at is not None]
        expected = [t for t in accepted if t.email]
        missing = [t.complaint_id or "" for t in expected if t.ack_at is None]
        mail = self.mail
        duplicated = (
            sum(1 for t in expected if mail.count_to(t.email or "") > 1) if mail is not None else 0
        )
        sent = len(self.tracked)
        return LatencyResult(
            rate_per_s=self.rate_per_s,
            duration_s=self.duration_s,
            sent=sent,
            accepted=len(accepted),
            assigned_event=len(event_lat),
            assigned_visible=len(visible_lat),
            confirmed_by_get=self.confirmed_by_get,
            get_requests=self.get_requests,
            poll_errors=self.poll_errors,
            post_ms=percentiles_ms(post_lat),
            event_ms=percentiles_ms(event_lat),
            visible_ms=percentiles_ms(visible_lat),
            achieved_rate_per_s=(
                round(sent / self.send_window_s, 1) if self.send_window_s > 0 else 0.0
            ),
            late_sends=self.late_sends,
            method=self._method(),
            errors=self.errors[:20],
            received_event_ms=percentiles_ms(received_lat),
            acks_expected=len(expected) if self.track_acks else 0,
            acks_arrived=len(ack_lat),
            acks_missing=missing[:20] if self.track_acks else [],
            acks_duplicated=duplicated,
            ack_ms=percentiles_ms(ack_lat),
            ack_wait_s=round(self.ack_wait_s, 1),
            items=self.tracked,
        )


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
    """Post ``rate_per_s`` complaints a second for ``duration_s``; the method is the module's."""
    total = max(int(rate_per_s * duration_s), 1)
    complaints = _Complaints.for_run(bodies, email_prefix)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    # Idle connections are dropped before uvicorn's 5 s keep-alive closes them: a request
    # on a connection the server is closing fails with ReadError, never retried.
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200, keepalive_expiry=3)
    client = httpx.AsyncClient(
        base_url=intake_url, headers={"X-API-Key": api_key}, timeout=30, limits=limits
    )
    run = _LatencyRun(
        client=client,
        consumer=consumer,
        watched_topics=[topic] + ([intake_topic] if intake_topic else []),
        complaints=complaints,
        total=total,
        rate_per_s=rate_per_s,
        duration_s=duration_s,
        settle_timeout_s=settle_timeout_s,
        poll_interval_s=poll_interval_s,
        progress=progress,
        mail=mail,
        ack_timeout_s=ack_timeout_s,
    )
    try:
        await run.measure()
    finally:
        await client.aclose()
        await consumer.stop()
    return run.result()
