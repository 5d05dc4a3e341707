"""Faults: poison records, a consumer killed mid-batch, the relay killed between produce and
mark-published, PostgreSQL stopped under a POST. Nothing is lost, nothing applied twice."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from complaint_contracts import topics
from complaint_contracts.envelope import encode
from complaint_contracts.events import ComplaintTriaged
from complaint_runtime.database import Database
from complaint_runtime.kafka import idempotent_producer
from complaint_runtime.outbox import OutboxRelay
from harness import lifecycle, wait_for, without_expected
from intake.complaints import service as intake_service
from intake.complaints.api import new_complaint
from intake.complaints.group_commit import GroupCommitter
from intake.complaints.reference_blocks import ReferenceAllocator
from intake.complaints.schemas import ComplaintIn
from kafka_tools import POISON_HEADER, header, produce, read_all

from conftest import Platform

POISON = [(POISON_HEADER, b"1")]


def _poison_records(
    subject: str,
) -> list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]]:
    _, valid = encode(
        ComplaintTriaged(
            complaint_id=subject, category="other", confidence=0.1, priority="P3", emotion="blue"
        ),
        topic="any",
        source="test",
        subject=subject,
    )
    headers = list(valid.headers)
    wrong_type = [
        (k, b"org.opencomplaints.nothing.v9" if k == "ce_type" else v) for k, v in headers
    ]
    too_long_id = [(k, b"e" * 201 if k == "ce_id" else v) for k, v in headers]
    return [
        (subject.encode(), b"\x00not a cloudevent", POISON),
        (subject.encode(), b'{"complaint_id": 1}', [*headers, *POISON]),
        (subject.encode(), valid.value, [*wrong_type, *POISON]),
        (subject.encode(), None, POISON),  # a tombstone
        # A valid event, but "test" is no topic's producer (and on most topics not its type).
        (subject.encode(), valid.value, [*headers, *POISON]),
        # Over the processed_events column: this one looped forever on PostgreSQL.
        (subject.encode(), valid.value, [*too_long_id, *POISON]),
    ]


def _post(platform: Platform, sample: dict[str, Any]) -> dict[str, Any]:
    with platform.client() as client:
        response = client.post("/v1/complaints", json=without_expected(sample))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _status(platform: Platform, complaint_id: str) -> dict[str, Any]:
    with platform.client() as client:
        body: dict[str, Any] = client.get(f"/v1/complaints/{complaint_id}").json()
    return body


def _wait_assigned(platform: Platform, complaint_id: str, timeout_s: float = 30) -> dict[str, Any]:
    return wait_for(
        lambda: (v := _status(platform, complaint_id))["status"] == "assigned" and v,
        timeout_s=timeout_s,
        what=f"{complaint_id} assigned",
    )


# What each consuming service reads; a poison record on each of these must reach its DLQ.
SUBSCRIPTIONS = {
    "intake": (topics.ROUTING, topics.SLA, topics.FEEDBACK, topics.NOTIFY),
    "routing": (topics.INTAKE, topics.FEEDBACK, topics.SLA, topics.NOTIFY),
    "sla-watch": (topics.ROUTING, topics.INTAKE),
    "feedback": (topics.INTAKE, topics.ROUTING, topics.NOTIFY),
    "notify": (topics.INTAKE, topics.ROUTING, topics.SLA, topics.FEEDBACK),
}
POISON_PER_PARTITION = 6


def test_poison_records_are_dead_lettered_and_the_partition_moves_on(
    platform: Platform, sample_complaints: list[dict[str, Any]]
) -> None:
    bootstrap = platform.bootstrap_servers
    for topic in topics.EVENT_TOPICS:
        for partition in range(topic.partitions):
            produce(bootstrap, topic.name, _poison_records(str(uuid.uuid4())), partition=partition)
    # A well-formed event about a complaint intake never had: fails in intake's handler on
    # each attempt, then goes to intake's dead-letter topic too.
    _, orphan = encode(
        ComplaintTriaged(
            complaint_id=str(uuid.uuid4()),
            category="other",
            confidence=0.1,
            priority="P4",
            emotion="blue",
        ),
        topic=topics.ROUTING.name,
        source="routing",
        subject=str(uuid.uuid4()),
    )
    produce(
        bootstrap, topics.ROUTING.name, [(orphan.key, orphan.value, [*orphan.headers, *POISON])]
    )

    # Records behind the poison on every partition are still processed.
    accepted = _post(platform, sample_complaints[3])
    _wait_assigned(platform, accepted["id"])

    for consumer, consumed in SUBSCRIPTIONS.items():
        dlq = topics.dead_letter_topic(consumer).name
        expected = {
            t.name: POISON_PER_PARTITION * t.partitions
            + (1 if (consumer, t) == ("intake", topics.ROUTING) else 0)
            for t in consumed
        }

        def counts(dlq: str = dlq) -> dict[str, int]:
            found: dict[str, int] = {}
            for record in read_all(bootstrap, dlq):
                if header(record, POISON_HEADER):
                    origin = header(record, "dlq_original_topic") or ""
                    found[origin] = found.get(origin, 0) + 1
                    assert header(record, "dlq_error"), record
                    assert header(record, "dlq_original_offset") is not None
            return found

        seen: list[dict[str, int]] = []

        def arrived(
            counts: Callable[[], dict[str, int]] = counts,
            expected: dict[str, int] = expected,
            seen: list[dict[str, int]] = seen,
        ) -> bool:
            seen.append(counts())
            return seen[-1] == expected

        try:
            wait_for(arrived, timeout_s=45, what=f"{expected} in {dlq}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; last seen {seen[-1:]}") from None
    orphan_letters = [
        r
        for r in read_all(bootstrap, topics.dead_letter_topic("intake").name)
        if r.key == orphan.key
    ]
    assert len(orphan_letters) == 1
    assert "LookupError" in (header(orphan_letters[0], "dlq_error") or "")


def test_routing_killed_mid_batch_loses_nothing_and_applies_nothing_twice(
    platform: Platform, sample_complaints: list[dict[str, Any]]
) -> None:
    platform.routing.kill()
    ids = [_post(platform, sample_complaints[i % len(sample_complaints)])["id"] for i in range(300)]
    platform.routing.start(wait=False)
    # Kill it again as soon as it has applied part of the backlog.
    wait_for(
        lambda: any(_status(platform, i)["status"] != "received" for i in ids[::10]),
        timeout_s=60,
        interval_s=0.02,
        what="routing to start applying the backlog",
    )
    platform.routing.kill()
    platform.routing.start()
    for complaint_id in ids:
        _wait_assigned(platform, complaint_id, timeout_s=60)
    routing_records = read_all(platform.bootstrap_servers, topics.ROUTING.name)
    event_ids_by_subject: dict[str, set[str]] = {}
    for record in routing_records:
        if header(record, POISON_HEADER):
            continue
        subject = header(record, "ce_subject") or ""
        if subject in ids and (header(record, "ce_type") or "").endswith("triaged.v1"):
            event_ids_by_subject.setdefault(subject, set()).add(header(record, "ce_id") or "")
    assert set(event_ids_by_subject) == set(ids)
    assert all(len(event_ids) == 1 for event_ids in event_ids_by_subject.values())
    for complaint_id in ids[::25]:
        view = _status(platform, complaint_id)
        assert lifecycle(view) == ["received", "triaged", "assigned"], view["history"]
        event_ids = [h["event_id"] for h in view["history"]]
        assert len(event_ids) == len(set(event_ids))


class _CrashBeforeMarking(OutboxRelay):
    """A relay that dies after Kafka acknowledged the batch but before deleting the rows."""

    async def _mark_published(self, session: Any, rows: Any) -> None:
        raise RuntimeError("simulated crash between produce and mark-published")


def test_relay_killed_between_produce_and_mark_published_causes_an_ignored_redelivery(
    platform: Platform, sample_complaints: list[dict[str, Any]]
) -> None:
    duplicates_before = _duplicates_seen(platform)
    platform.intake.stop()
    try:
        complaint_id = asyncio.run(
            _store_and_publish_without_marking(platform, sample_complaints[5])
        )
    finally:
        platform.intake.start()  # its relay publishes the same outbox row again
    _wait_assigned(platform, complaint_id)

    def received_copies() -> list[Any]:
        return [
            r
            for r in read_all(platform.bootstrap_servers, topics.INTAKE.name)
            if header(r, "ce_subject") == complaint_id
        ]

    copies = wait_for(
        lambda: len(received_copies()) >= 2 and received_copies(),
        timeout_s=30,
        what="the redelivered copy",
    )
    assert len({header(r, "ce_id") for r in copies}) == 1, "same event id both times"
    time.sleep(1.0)  # give routing time to (wrongly) apply the copy
    triaged = [
        r
        for r in read_all(platform.bootstrap_servers, topics.ROUTING.name)
        if header(r, "ce_subject") == complaint_id
        and (header(r, "ce_type") or "").endswith("triaged.v1")
    ]
    assert len({header(r, "ce_id") for r in triaged}) == 1
    assert lifecycle(_status(platform, complaint_id)) == ["received", "triaged", "assigned"]
    assert _duplicates_seen(platform) > duplicates_before  # routing saw the copy, ignored it


def _duplicates_seen(platform: Platform) -> float:
    """Redelivered intake events routing recognised as already applied (this process)."""
    metrics = httpx.get(f"{platform.routing.url}/metrics").text
    for line in metrics.splitlines():
        if (
            line.startswith("events_consumed_total")
            and 'outcome="duplicate"' in line
            and f'topic="{topics.INTAKE.name}"' in line
        ):
            return float(line.split()[-1])
    return 0.0


async def _store_and_publish_without_marking(platform: Platform, sample: dict[str, Any]) -> str:
    database = Database(platform.database_urls["intake"])
    secrets_ = intake_service.Secrets.from_settings(
        contact_encryption_key=platform.secrets["CONTACT_ENCRYPTION_KEY"],
        customer_ref_key=platform.secrets["CUSTOMER_REF_KEY"],
    )
    producer = idempotent_producer(platform.bootstrap_servers, request_timeout_ms=10000)
    await producer.start()
    try:
        result = await intake_service.submit_complaint(
            database=database,
            secrets_=secrets_,
            references=ReferenceAllocator(database),
            writer=GroupCommitter(database),
            submission=intake_service.Submission(
                new_complaint(ComplaintIn.model_validate(without_expected(sample))),
                1,
                None,
                "x",
                front_end="integration",  # the platform key's: it reads the complaint back
            ),
            public_base_url=platform.intake.url,
        )
        relay = _CrashBeforeMarking(database=database, producer=producer)
        try:
            await relay.publish_once()
        except RuntimeError:
            pass
        else:
            raise AssertionError("the faulty relay should have failed")
        return str(result.body["id"])
    finally:
        await producer.stop()
        await database.dispose()


def test_postgres_down_during_post_is_503_with_retry_after_and_recovers(
    platform: Platform, sample_complaints: list[dict[str, Any]]
) -> None:
    body = without_expected(sample_complaints[6])
    platform.postgres.stop()
    try:
        with platform.client() as client:
            response = client.post("/v1/complaints", json=body)
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert int(response.headers["Retry-After"]) > 0
        assert json.loads(response.text)["status"] == 503
    finally:
        platform.postgres.start()

    def accepted() -> dict[str, Any] | None:
        with platform.client() as client:
            response = client.post("/v1/complaints", json=body)
        return response.json() if response.status_code == 201 else None

    complaint = wait_for(accepted, timeout_s=60, interval_s=0.5, what="intake to recover")
    _wait_assigned(platform, complaint["id"], timeout_s=60)
