"""The consumer loop: at least once from Kafka, at most once into the database.

For each batch of one partition: one database transaction applies every new record (each in
a savepoint), records its event id in ``processed_events``, and only after that transaction
commits is the partition's offset committed (with others, at most every
``commit_interval_s``: :mod:`complaint_runtime.offsets`). A redelivered record finds its id
already there and is skipped. A record that cannot be decoded, or that keeps failing, goes to the
service's dead-letter topic with the error and its origin in headers, and the partition
moves on; so does a record whose ``ce_source`` or type does not belong to its topic (each
topic has one producer: :mod:`complaint_runtime.dead_letters`). Failures of the database or
broker themselves are not the record's fault: the batch is retried with back-off, never
dead-lettered. The dead-letter topic unreachable is such a failure: the batch rolls back,
nothing of it is lost, applied twice or committed, and it is tried again.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from typing import TypeVar

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError
from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope, InvalidEvent, decode
from sqlalchemy.exc import DBAPIError, OperationalError

from complaint_runtime import metrics
from complaint_runtime.context import caused_by, originating
from complaint_runtime.database import (
    Database,
    ProcessedEvent,
    UnitOfWork,
    dialect_insert,
    is_database_unavailable,
    utcnow,
)
from complaint_runtime.dead_letters import (
    DeadLetter,
    ForgedEvent,
    check_origin,
    dead_letter_record,
    describe,
    position_id,
)
from complaint_runtime.offsets import CommitOnRevoke, PendingOffsets
from complaint_runtime.retries import retrying

log = structlog.get_logger(__name__)

Handler = Callable[[UnitOfWork, Envelope], Awaitable[None]]
# Reads, in one go, what a batch's handlers are about to read one by one (e.g. every
# complaint the batch names, into the session's identity map): a round trip per batch
# instead of one per record. Only an optimisation: the handlers must not rely on it.
Preload = Callable[[UnitOfWork, Sequence[Envelope]], Awaitable[None]]
# Whether an event a handler covers is worth applying now (a cheap, synchronous check).
Wants = Callable[[Envelope], bool]
DataT = TypeVar("DataT", bound=EventData)


def event_data(envelope: Envelope, kind: type[DataT]) -> DataT:
    """The envelope's data as ``kind``, the type the handler table routed it by; a handler
    registered for the wrong type fails here (and the record is dead-lettered)."""
    if not isinstance(envelope.data, kind):
        raise TypeError(f"{envelope.type} carries {type(envelope.data).__name__}, not {kind}")
    return envelope.data


def in_publication_order(
    batches: Iterable[Sequence[ConsumerRecord[bytes, bytes]]],
) -> list[ConsumerRecord[bytes, bytes]]:
    """One poll's records across its partitions, each partition's in its own order, merged
    by the time each was published (the record timestamp). A complaint's events on two
    topics then apply in the order they left their services: after a consumer fell behind,
    a customer's message (intake's topic) and the triage it followed (routing's) arrive in
    one poll, and the triage must come first."""
    return list(heapq.merge(*batches, key=_published_at))


def _published_at(record: ConsumerRecord[bytes, bytes]) -> int:
    return record.timestamp


class TransientError(Exception):
    """A failure of a dependency, not of the record: retry, never dead-letter."""


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, TransientError | OperationalError | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, DBAPIError):
        return is_database_unavailable(exc)
    return isinstance(exc, OSError)


class EventConsumer:
    def __init__(
        self,
        *,
        database: Database,
        bootstrap_servers: str,
        group_id: str,
        topics: Sequence[str],
        handlers: Mapping[type[EventData], Handler],
        dead_letter_topic: str,
        producer: AIOKafkaProducer,
        batch_size: int = 500,
        max_attempts: int = 3,
        retry_backoff_s: float = 0.2,
        session_timeout_ms: int = 10000,
        apply_batch_at_once: bool = False,
        preload: Preload | None = None,
        wants: Wants | None = None,
        fetch_max_wait_ms: int = 500,
        fetch_min_bytes: int = 1,
        commit_interval_s: float = 0.0,
    ):
        self._database = database
        self._group_id = group_id
        self._topics = list(topics)
        self._handlers = dict(handlers)
        self._wants = wants
        self._dead_letter_topic = dead_letter_topic
        self._producer = producer
        self._batch_size = batch_size
        self._max_attempts = max_attempts
        self._retry_backoff_s = retry_backoff_s
        self._stopping = asyncio.Event()
        self._bootstrap_servers = bootstrap_servers
        self._session_timeout_ms = session_timeout_ms
        # Only for handlers that touch nothing but this database (a rollback undoes all
        # they did): see _process_at_once.
        self._apply_batch_at_once = apply_batch_at_once
        self._preload = preload
        self._fetch = {"fetch_max_wait_ms": fetch_max_wait_ms, "fetch_min_bytes": fetch_min_bytes}
        self._commit_interval_s = commit_interval_s
        self._pending = PendingOffsets(interval_s=commit_interval_s)
        self._consumer: AIOKafkaConsumer  # made fresh by each run()
        self.assigned = asyncio.Event()

    def _new_consumer(self) -> AIOKafkaConsumer:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap_servers,
            group_id=self._group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_poll_records=self._batch_size,
            session_timeout_ms=self._session_timeout_ms,
            heartbeat_interval_ms=max(self._session_timeout_ms // 4, 500),
            **self._fetch,
        )
        consumer.subscribe(self._topics, listener=CommitOnRevoke(self.commit_revoked))
        return consumer

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        # A fresh client per run: after a crash the supervisor calls run() again, and an
        # aiokafka consumer cannot be started twice.
        self._consumer = self._new_consumer()
        self._pending = PendingOffsets(interval_s=self._commit_interval_s)
        await self._start_consumer()
        try:
            while not self._stopping.is_set():
                batches = await self._consumer.getmany(timeout_ms=200, max_records=self._batch_size)
                if self._consumer.assignment():
                    self.assigned.set()
                if not batches:
                    if self._pending:  # the trickle paused: where it stopped is committed
                        await self._commit(self._pending.take())
                    continue
                # Every partition of one poll in one transaction and one offset commit:
                # under a steady trickle each poll holds a few records per partition, and a
                # commit (fsync) plus an offset commit per partition would bound throughput.
                records = in_publication_order(batches.values())
                await self._process_with_retries(records)
                self._pending.add({tp: batch[-1].offset + 1 for tp, batch in batches.items()})
                if self._pending.due():
                    await self._commit(self._pending.take())
                for partition, batch in batches.items():
                    self._record_lag(partition, batch[-1].offset)
        finally:
            await self._commit_before_stop()
            await self._consumer.stop()

    async def _commit_before_stop(self) -> None:
        if not self._pending:
            return
        try:
            await self._commit(self._pending.take())
        except Exception as exc:  # the broker is away: these records come again, skipped
            log.warning("offsets not committed on stop", error=repr(exc))

    async def commit_revoked(self, revoked: Collection[TopicPartition]) -> None:
        """Before partitions move to another member: what was applied of them."""
        offsets = self._pending.take(revoked)
        if offsets:
            await self._commit(offsets)

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        try:
            await self._consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            # The partition moved to another member during a rebalance; it will redeliver
            # these records and processed_events makes that harmless.
            log.warning("offset commit refused after rebalance", error=repr(exc))

    async def _start_consumer(self) -> None:
        async for attempt in retrying(
            "kafka not reachable, consumer retrying", initial_s=0.2, max_s=5.0
        ):
            with attempt:
                await self._consumer.start()

    def _record_lag(self, partition: TopicPartition, last_offset: int) -> None:
        highwater = self._consumer.highwater(partition)
        if highwater is not None:
            metrics.CONSUMER_LAG.labels(self._group_id, partition.topic, partition.partition).set(
                max(highwater - last_offset - 1, 0)
            )

    async def _process_with_retries(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        """A failure of the database or broker is retried with back-off, forever: nothing
        of the batch committed, and its offsets are not committed until it did."""
        async for attempt in retrying(
            "batch failed on a dependency, retrying",
            initial_s=self._retry_backoff_s,
            max_s=10.0,
            retry_on=is_transient,
            topics=sorted({r.topic for r in records}),
            records=len(records),
        ):
            with attempt:
                await self._process_batch(records)

    async def _process_batch(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        # Where the batch's changes came from, for the audit chain: the consumer group.
        with originating(f"kafka {self._group_id}"):
            await self._process_batch_of_origin(records)

    async def _process_batch_of_origin(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        if self._apply_batch_at_once:  # a lone record too: no savepoint, as for a batch
            try:
                await self._process_at_once(records)
                return
            except Exception as exc:
                if is_transient(exc):
                    raise
                # Nothing of the batch committed: applied record by record below, a bad
                # record is isolated in its savepoint and dead-lettered alone.
                log.warning(
                    "batch failed applied at once, record by record now",
                    records=len(records),
                    error=repr(exc)[:300],
                )
        dead: list[DeadLetter] = []
        async with self._database.unit_of_work() as uow:
            for record in records:
                letter = await self._process_record(uow, record)
                if letter is not None:
                    dead.append(letter)
            # Dead letters are out before the transaction commits: a crash in between sends
            # them again (a duplicate in the DLQ) instead of losing them.
            for letter in dead:
                await self._send_dead_letter(letter)

    async def _process_at_once(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        """Every record of the batch in one transaction, with no savepoint per record and
        the event ids recorded in one statement: a backlog is bound by round trips, and a
        savepoint, its release and a processed_events insert cost three per record. Any
        failure (an undecodable record, a failing handler) raises, the whole transaction
        rolls back and the caller applies the batch record by record instead."""
        decoded = [(record, self._decode(record)) for record in records]
        wanted = [(r, e) for r, e in decoded if self._handled(e)]
        outcomes: list[tuple[str, str]] = []
        if not wanted:  # nothing this service handles: no transaction at all
            self._count(outcomes, decoded)
            return
        async with self._database.unit_of_work() as uow:
            fresh = await _mark_all_processed(
                uow, consumer=self._group_id, event_ids=[e.id for _, e in wanted]
            )
            if self._preload is not None and fresh:
                await self._preload(uow, [e for _, e in wanted if e.id in fresh])
            for record, envelope in wanted:
                if envelope.id not in fresh:  # applied before, or twice in this batch
                    outcomes.append((record.topic, "duplicate"))
                    continue
                fresh.discard(envelope.id)
                with caused_by(
                    correlation_id=envelope.correlation_id,
                    causation_id=envelope.id,
                    complaint_id=envelope.subject,
                    event_id=envelope.id,
                ):
                    await self._handlers[type(envelope.data)](uow, envelope)
                outcomes.append((record.topic, "applied"))
        self._count(outcomes, decoded)

    def _handled(self, envelope: Envelope) -> bool:
        """A handler covers the event and, asked, says it is worth applying now."""
        if type(envelope.data) not in self._handlers:
            return False
        return self._wants is None or self._wants(envelope)

    def _count(
        self,
        outcomes: list[tuple[str, str]],
        decoded: list[tuple[ConsumerRecord[bytes, bytes], Envelope]],
    ) -> None:
        outcomes += [(r.topic, "ignored") for r, e in decoded if not self._handled(e)]
        for topic, outcome in outcomes:
            metrics.EVENTS_CONSUMED.labels(self._group_id, topic, outcome).inc()

    @staticmethod
    def _decode(record: ConsumerRecord[bytes, bytes]) -> Envelope:
        """The record's envelope; InvalidEvent for anything off-contract, ForgedEvent for a
        source or type that does not belong to the record's topic."""
        envelope = decode(record.key, record.value, list(record.headers or ()))
        check_origin(record.topic, envelope)
        return envelope

    async def _process_record(
        self, uow: UnitOfWork, record: ConsumerRecord[bytes, bytes]
    ) -> DeadLetter | None:
        topic = record.topic
        try:
            envelope = self._decode(record)
        except InvalidEvent as exc:
            # By position: the record's own id may be missing, too long, or (forged) that
            # of a genuine event, which must not be marked applied by a forgery.
            first_time = await uow.mark_processed(
                consumer=self._group_id, event_id=position_id(record), outcome="dead_lettered"
            )
            kind = "forged event" if isinstance(exc, ForgedEvent) else "invalid event"
            return DeadLetter(record, f"{kind}: {exc}") if first_time else None
        if not self._handled(envelope):
            metrics.EVENTS_CONSUMED.labels(self._group_id, topic, "ignored").inc()
            return None
        with caused_by(
            correlation_id=envelope.correlation_id,
            causation_id=envelope.id,
            complaint_id=envelope.subject,
            event_id=envelope.id,
        ):
            return await self._apply(uow, envelope, record)

    async def _apply(
        self, uow: UnitOfWork, envelope: Envelope, record: ConsumerRecord[bytes, bytes]
    ) -> DeadLetter | None:
        handler = self._handlers[type(envelope.data)]
        for attempt in range(1, self._max_attempts + 1):
            try:
                async with uow.session.begin_nested():
                    first_time = await uow.mark_processed(
                        consumer=self._group_id, event_id=envelope.id, outcome="applied"
                    )
                    if not first_time:
                        metrics.EVENTS_CONSUMED.labels(
                            self._group_id, record.topic, "duplicate"
                        ).inc()
                        return None
                    await handler(uow, envelope)
                metrics.EVENTS_CONSUMED.labels(self._group_id, record.topic, "applied").inc()
                return None
            except Exception as exc:
                if is_transient(exc):
                    raise
                log.warning(
                    "event handler failed", type=envelope.type, attempt=attempt, error=repr(exc)
                )
                if attempt == self._max_attempts:
                    async with uow.session.begin_nested():
                        await uow.mark_processed(
                            consumer=self._group_id,
                            event_id=envelope.id,
                            outcome="dead_lettered",
                        )
                    return DeadLetter(record, describe(exc))
                await asyncio.sleep(self._retry_backoff_s * attempt)
        return None

    async def _send_dead_letter(self, letter: DeadLetter) -> None:
        """Publish the letter (bounded and valid whatever the record, see dead_letters),
        tried a few times; then the topic counts as unreachable: TransientError, so the batch
        rolls back, its offsets stay, and it is applied again after a back-off."""
        outgoing = dead_letter_record(letter, group=self._group_id)
        record = letter.record
        for attempt in range(1, self._max_attempts + 1):
            try:
                await self._producer.send_and_wait(
                    self._dead_letter_topic,
                    value=outgoing.value,
                    key=outgoing.key,
                    headers=outgoing.headers,
                )
                break
            except Exception as exc:
                if attempt == self._max_attempts:
                    raise TransientError(f"dead-letter topic unreachable: {exc!r}") from exc
                log.warning("dead letter not published", attempt=attempt, error=repr(exc)[:300])
                await asyncio.sleep(self._retry_backoff_s * attempt)
        metrics.DEAD_LETTERED.labels(self._group_id, record.topic).inc()
        log.error(
            "record dead-lettered",
            original_topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error=outgoing.error[:500],
        )


async def _mark_all_processed(
    uow: UnitOfWork, *, consumer: str, event_ids: Sequence[str]
) -> set[str]:
    """Record that ``consumer`` applied these events, in one statement; returns the ids it
    had not applied before."""
    if not event_ids:
        return set()
    now = utcnow()
    rows = [
        {"consumer": consumer, "event_id": event_id, "outcome": "applied", "processed_at": now}
        for event_id in dict.fromkeys(event_ids)
    ]
    statement = (
        dialect_insert(uow.session)(ProcessedEvent)
        .values(rows)
        .on_conflict_do_nothing()
        .returning(ProcessedEvent.event_id)
    )
    return set((await uow.session.execute(statement)).scalars())
