"""The tables several of sla-watch's packages share: one row per SLA clock, found by its
next firing instant (the firing loop) or its deadline (the at-risk view), and one row per
complaint with what its clocks match on, its escalation level and its latest agent reply;
with their repositories.

Indexes, and why: the firing loop's only access path is a partial index on
``next_fire_at`` over running clocks, so stopped clocks (most of them, over time) leave every
index but the complaint's. The supervisor view (``GET /v1/clocks/at-risk``) reads partial
indexes on ``(due_at)``, ``(team, due_at)`` and ``(priority, due_at)`` over running,
unbreached clocks; its query repeats their predicate so both PostgreSQL and SQLite use them.
Arming a triaged complaint is one statement (``ComplaintSlaRepository.claim``),
since arming a backlog is bound by round trips.

Lock order, everywhere: a complaint's clock rows before its ``complaint_sla`` row (the
firing loop holds a clock when it escalates), so consumers and the loop never deadlock;
several ``complaint_sla`` rows are locked in complaint id order (a firing round).

A consumer's batch locks up front what its handlers will lock, one statement per table
whatever its size (:meth:`ClockRepository.lock_open_for_batch`, then
:meth:`ComplaintSlaRepository.lock_for_batch`, then
:meth:`ClockRepository.lock_all_for_batch`): all the batch's clocks in complaint order
before all its rows in complaint order, so two replicas never deadlock. What they locked is
held in ``Session.info`` for the rest of the transaction, and the repositories answer the
handlers' locking reads from it, without a round trip each; rows and clocks the handlers add
join it. Any rollback (a savepoint's too) forgets it, and they read the database again.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from complaint_runtime.database import Base, UTCDateTime
from sqlalchemy import (
    JSON,
    Boolean,
    Executable,
    Index,
    Integer,
    Select,
    String,
    Table,
    bindparam,
    event,
    exists,
    false,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import (
    Mapped,
    Session,
    SessionTransaction,
    make_transient_to_detached,
    mapped_column,
)

from sla_watch.clocks.domain.clock import ClockView, Pause
from sla_watch.policies.domain.terms import ComplaintFacts

_RUNNING = text("state = 'running'")
# Clocks that can still breach: the at-risk view's indexes cover only these, so the
# query's WHERE (the same two conditions) lets PostgreSQL and SQLite use them.
_AT_RISK = text("state = 'running' AND breached = false")
TEAM_LENGTH = 200


def pauses_to_json(pauses: Sequence[Pause]) -> list[list[str | None]]:
    return [[start.isoformat(), end.isoformat() if end else None] for start, end in pauses]


def pauses_from_json(value: Any) -> tuple[Pause, ...]:
    return tuple(
        (datetime.fromisoformat(start), datetime.fromisoformat(end) if end else None)
        for start, end in value or ()
    )


class Clock(Base):
    __tablename__ = "clocks"
    __table_args__ = (
        # The firing loop's only access path: running clocks by next instant. Partial on both
        # dialects, so stopped clocks (most of them, over time) cost the index nothing.
        Index(
            "ix_clocks_next_fire_at",
            "next_fire_at",
            postgresql_where=_RUNNING,
            sqlite_where=_RUNNING,
        ),
        # The supervisor view: running, not yet breached, by deadline; all, one team or one
        # priority (several teams or priorities combine in the query, not in more indexes).
        Index("ix_clocks_at_risk", "due_at", postgresql_where=_AT_RISK, sqlite_where=_AT_RISK),
        Index(
            "ix_clocks_at_risk_team",
            "team",
            "due_at",
            postgresql_where=_AT_RISK,
            sqlite_where=_AT_RISK,
        ),
        Index(
            "ix_clocks_at_risk_priority",
            "priority",
            "due_at",
            postgresql_where=_AT_RISK,
            sqlite_where=_AT_RISK,
        ),
    )

    clock_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    complaint_id: Mapped[str] = mapped_column(String(36), index=True)
    metric: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(4))
    policy_id: Mapped[str] = mapped_column(String(60))
    calendar_id: Mapped[str] = mapped_column(String(60))
    target_seconds: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(10))
    fired_percents: Mapped[list[int]] = mapped_column(JSON, default=list)
    breached: Mapped[bool] = mapped_column(Boolean, default=False)
    next_fire_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(10))
    # What the policy matched on (besides priority) and who works the complaint.
    category: Mapped[str | None] = mapped_column(String(40))
    tier: Mapped[str | None] = mapped_column(String(20))
    channel: Mapped[str | None] = mapped_column(String(20))
    team: Mapped[str | None] = mapped_column(String(TEAM_LENGTH))
    # next_response clocks: the customer message the clock answers.
    message_id: Mapped[str | None] = mapped_column(String)
    # The pause history, [[paused_at, resumed_at or null], ...] as ISO 8601: paused_seconds
    # is recounted from it when the calendar changes.
    pauses: Mapped[list[list[str | None]]] = mapped_column(JSON, default=list)
    # The causal chain of the event that started the clock, so warnings fired much later by
    # the loop still trace back to the complaint's triage.
    correlation_id: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def view(self) -> ClockView:
        return ClockView(
            started_at=self.started_at,
            target_seconds=self.target_seconds,
            paused_seconds=self.paused_seconds,
            paused_at=self.paused_at,
            state=self.state,  # type: ignore[arg-type]
            fired_percents=frozenset(self.fired_percents),
            breached=self.breached,
            stopped_at=self.stopped_at,
            pauses=pauses_from_json(self.pauses),
        )

    def facts(self) -> ComplaintFacts:
        """What the clock matched its policy on (a recompute matches again on these)."""
        return ComplaintFacts(
            priority=self.priority,  # type: ignore[arg-type]
            category=self.category,
            tier=self.tier,
            channel=self.channel,
        )

    def apply(self, view: ClockView) -> None:
        """Copy what the rules changed back onto the row."""
        self.paused_seconds = view.paused_seconds
        self.paused_at = view.paused_at
        self.state = view.state
        self.fired_percents = sorted(view.fired_percents)
        self.breached = view.breached
        self.stopped_at = view.stopped_at
        self.pauses = pauses_to_json(view.pauses)


class ComplaintSla(Base):
    """Per complaint: the facts its clocks match policies on (from triage, assignment and
    recategorization), its escalation level, and the latest agent reply seen (a customer
    message older than that was already answered: it starts no next-response clock)."""

    __tablename__ = "complaint_sla"

    complaint_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    priority: Mapped[str] = mapped_column(String(4))
    category: Mapped[str | None] = mapped_column(String(40))
    tier: Mapped[str | None] = mapped_column(String(20))
    channel: Mapped[str | None] = mapped_column(String(20))
    team: Mapped[str | None] = mapped_column(String(TEAM_LENGTH))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    last_agent_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def facts(self) -> ComplaintFacts:
        """What the complaint's clocks match policies on."""
        return ComplaintFacts(
            priority=self.priority,  # type: ignore[arg-type]
            category=self.category,
            tier=self.tier,
            channel=self.channel,
        )


# What a consumer's batch locked up front, in ``Session.info`` (held strongly there).
_HELD = "sla_watch.held"
OPEN_STATES = ("running", "paused")
# The order a batch locks clocks in: by complaint (as its rows), then as a complaint's
# handlers read them (start time; triage's two clocks start together), then by id. Only
# columns a clock never changes: two replicas sort the same rows the same way.
_BATCH_ORDER = (Clock.complaint_id, Clock.started_at, Clock.metric, Clock.clock_id)


@dataclass
class _Held:
    """The clocks and ``complaint_sla`` rows a batch's transaction has locked.

    ``clocks``: per complaint, the clocks open when locked (every clock, stopped ones too,
    for complaints in ``complete``), and the clocks added to the session since. ``rows``:
    per complaint, its row, or None when it had none (and none was added since)."""

    clocks: dict[str, list[Clock]] = field(default_factory=dict)
    complete: set[str] = field(default_factory=set)
    rows: dict[str, ComplaintSla | None] = field(default_factory=dict)


def _held(session: AsyncSession) -> _Held | None:
    held: _Held | None = session.info.get(_HELD)
    return held


def _hold(session: AsyncSession) -> _Held:
    held = _held(session)
    if held is None:
        held = session.info[_HELD] = _Held()
        if not event.contains(session.sync_session, "after_soft_rollback", _forget_held):
            event.listen(session.sync_session, "after_soft_rollback", _forget_held)
    return held


def _forget_held(session: Session, _previous: SessionTransaction) -> None:
    """A rollback (of a savepoint too) expires or drops what the session held: what the
    batch locked is read from the database again (the locks themselves stay, unless the
    whole transaction rolled back)."""
    session.info.pop(_HELD, None)


_CLAIM_COLUMNS = (
    "complaint_id",
    "priority",
    "category",
    "tier",
    "channel",
    "escalation_level",
    "updated_at",
)


@functools.cache
def _claim_statement(dialect: str) -> Executable:
    """Built once per dialect (its parameters bound at execution): building it per
    complaint cost more Python than its round trip."""
    table = cast(Table, ComplaintSla.__table__)
    source = select(
        *(bindparam(name, type_=table.c[name].type).label(name) for name in _CLAIM_COLUMNS)
    ).where(~exists().where(Clock.complaint_id == bindparam("complaint_id")))
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # On the Table, not the entity: an ORM insert executed with parameters is a bulk insert.
    return (
        insert(table)
        .from_select(list(_CLAIM_COLUMNS), source)
        .on_conflict_do_nothing()
        .returning(table.c.complaint_id)
    )


class ComplaintSlaRepository:
    def __init__(self, session: AsyncSession, *, lock: bool = False):
        self.session = session
        # Locked: the firing loop (escalation level) and the consumers (facts, replies)
        # change the same row.
        self._lock = lock

    async def get(self, complaint_id: str) -> ComplaintSla | None:
        held = _held(self.session) if self._lock else None
        if held is not None and complaint_id in held.rows:
            return held.rows[complaint_id]  # locked by the batch already
        query = select(ComplaintSla).where(ComplaintSla.complaint_id == complaint_id)
        if self._lock:
            query = query.with_for_update()
        return (await self.session.scalars(query)).one_or_none()

    def add(self, row: ComplaintSla) -> None:
        self.session.add(row)
        held = _held(self.session)
        if held is not None and row.complaint_id in held.rows:
            held.rows[row.complaint_id] = row

    async def lock_for_batch(self, complaint_ids: Iterable[str]) -> dict[str, ComplaintSla]:
        """Lock the rows of these complaints in one statement, in complaint id order, for the
        rest of the transaction (a consumer's batch, after its clocks): :meth:`get` then
        answers them, and that a complaint has none, without a round trip. Returns the rows
        found."""
        held = _hold(self.session)
        wanted = set(complaint_ids)
        if ids := wanted - held.rows.keys():
            found = await self.lock_many(ids)
            for complaint_id in ids:
                held.rows[complaint_id] = found.get(complaint_id)
        return {c: row for c in wanted if (row := held.rows[c]) is not None}

    async def lock_many(self, complaint_ids: Collection[str]) -> dict[str, ComplaintSla]:
        """The rows of these complaints, locked in complaint id order (so two replicas
        locking overlapping sets never deadlock)."""
        query = (
            select(ComplaintSla)
            .where(ComplaintSla.complaint_id.in_(sorted(complaint_ids)))
            .order_by(ComplaintSla.complaint_id)
            .with_for_update()
        )
        return {row.complaint_id: row for row in await self.session.scalars(query)}

    async def claim(self, complaint_id: str, facts: ComplaintFacts, *, now: datetime) -> bool:
        """Insert the complaint's row unless it (or a clock of the complaint, armed before
        rows existed) is there already; True when inserted. One statement, as arming a
        backlog of triaged complaints is bound by round trips; a concurrent triage of the
        same complaint waits on the row and then inserts nothing (``ON CONFLICT DO
        NOTHING``)."""
        statement = _claim_statement(self.session.get_bind().dialect.name)
        values = {
            "complaint_id": complaint_id,
            "priority": facts.priority,
            "category": facts.category,
            "tier": facts.tier,
            "channel": facts.channel,
            "escalation_level": 0,
            "updated_at": now,
        }
        # No autoflush: the clocks and outbox rows of complaints armed before in this
        # transaction go in one flush at its end, not one per complaint. A clock of this
        # very complaint pending in the session means its row was inserted already (so
        # nothing is).
        with self.session.no_autoflush:
            inserted = (await self.session.execute(statement, values)).first() is not None
        if inserted:
            self._hold_claimed(values)
        return inserted

    def _hold_claimed(self, values: dict[str, Any]) -> None:
        """A complaint claimed in a batch that holds it: its new row joins what the batch
        holds as if read (without reading it back), and so do its clocks: it has none yet,
        as the claim checked (its clocks started from now on join them as they are added)."""
        held = _held(self.session)
        complaint_id = values["complaint_id"]
        if held is None:
            return
        if complaint_id in held.clocks:
            held.complete.add(complaint_id)
        if complaint_id in held.rows:
            row = ComplaintSla(
                **{**values, "updated_at": values["updated_at"].astimezone(UTC)},
                team=None,
                last_agent_reply_at=None,
            )
            # Persistent and unchanged, as loaded from the row just inserted.
            make_transient_to_detached(row)
            self.session.add(row)
            held.rows[complaint_id] = row


def at_risk_query(
    *,
    limit: int,
    teams: Sequence[str] | None = None,
    priorities: Sequence[str] | None = None,
    metric: str | None = None,
) -> Select[Clock]:
    """Running clocks not breached yet, soonest deadline first. Its WHERE repeats the
    partial indexes' predicate, so they serve it: by due_at, or by team / priority and
    due_at, reading no more index entries than ``limit`` (plus those a filter skips)."""
    query = select(Clock).where(Clock.state == "running", Clock.breached == false())
    if teams is not None:
        query = query.where(Clock.team.in_(teams))
    if priorities is not None:
        query = query.where(Clock.priority.in_(priorities))
    if metric is not None:
        query = query.where(Clock.metric == metric)
    return query.order_by(Clock.due_at).limit(limit)


def _started_at(clock: Clock) -> datetime:
    return clock.started_at


class ClockRepository:
    def __init__(self, session: AsyncSession, *, lock: bool = False):
        self.session = session
        # A handler locks the complaint's clocks, so it never overwrites what the firing
        # loop (which skips locked rows) is changing at the same moment.
        self._lock = lock

    def add(self, clock: Clock) -> None:
        self.session.add(clock)
        held = _held(self.session)
        if held is not None and clock.complaint_id in held.clocks:
            held.clocks[clock.complaint_id].append(clock)

    def _held_clocks(self, complaint_id: str, *, every: bool = False) -> list[Clock] | None:
        """The complaint's clocks the batch holds (open ones at least, or, with ``every``,
        all of them), None when it does not."""
        held = _held(self.session)
        if held is None or (every and complaint_id not in held.complete):
            return None
        return held.clocks.get(complaint_id)

    async def lock_open_for_batch(self, complaint_ids: Iterable[str]) -> None:
        """Lock the open clocks of these complaints in one statement (in complaint order)
        for the rest of the transaction (a consumer's batch, before any row):
        :meth:`open_of_complaint` then answers them from memory."""
        held = _hold(self.session)
        ids = sorted(set(complaint_ids) - held.clocks.keys())
        if not ids:
            return
        rows = await self.session.scalars(
            select(Clock)
            .where(Clock.complaint_id.in_(ids), Clock.state.in_(OPEN_STATES))
            .order_by(*_BATCH_ORDER)
            .with_for_update()
        )
        for complaint_id in ids:
            held.clocks[complaint_id] = []
        for clock in rows:
            held.clocks[clock.complaint_id].append(clock)

    async def lock_all_for_batch(self, complaint_ids: Iterable[str]) -> None:
        """Lock every clock of these complaints, stopped ones too, in one statement (in
        complaint order) for the rest of the transaction: :meth:`set_team` then changes
        them in memory (the flush writes them all in one go). Read after the complaints'
        rows are locked, as an UPDATE of their clocks would be: a clock another transaction
        added before the row was locked is among them, and none can be added after."""
        held = _hold(self.session)
        ids = sorted(set(complaint_ids) - held.complete)
        if not ids:
            return
        rows = await self.session.scalars(
            select(Clock)
            .where(Clock.complaint_id.in_(ids))
            .order_by(*_BATCH_ORDER)
            .with_for_update()
        )
        found: dict[str, list[Clock]] = {complaint_id: [] for complaint_id in ids}
        for clock in rows:
            found[clock.complaint_id].append(clock)
        for complaint_id, clocks in found.items():
            # The clocks held already are among them (the same objects, as they are in the
            # session), those added too (flushed before the read), unless autoflush is off.
            clocks += [c for c in held.clocks.get(complaint_id, ()) if c not in clocks]
            held.clocks[complaint_id] = clocks
            held.complete.add(complaint_id)

    async def of_complaint(self, complaint_id: str, *, limit: int = 100) -> Sequence[Clock]:
        query = (
            select(Clock)
            .where(Clock.complaint_id == complaint_id)
            .order_by(Clock.started_at, Clock.metric)
            .limit(limit)
        )
        return (await self.session.scalars(query)).all()

    async def open_of_complaint(
        self, complaint_id: str, *, metric: str | None = None
    ) -> Sequence[Clock]:
        held = self._held_clocks(complaint_id) if self._lock else None
        if held is not None:  # locked by the batch already
            found = [
                clock
                for clock in held
                if clock.state in OPEN_STATES and (metric is None or clock.metric == metric)
            ]
            found.sort(key=_started_at)  # stable: held in the batch's order
            return found
        query = select(Clock).where(
            Clock.complaint_id == complaint_id, Clock.state.in_(OPEN_STATES)
        )
        if metric is not None:
            query = query.where(Clock.metric == metric)
        query = query.order_by(Clock.started_at)
        if self._lock:
            query = query.with_for_update()
        return (await self.session.scalars(query)).all()

    async def set_team(self, complaint_id: str, team: str) -> None:
        """Every clock of the complaint, stopped ones too, gets the team."""
        held = self._held_clocks(complaint_id, every=True)
        if held is not None:  # all of them locked by the batch: written at the flush
            for clock in held:
                clock.team = team
            return
        await self.session.execute(
            update(Clock).where(Clock.complaint_id == complaint_id).values(team=team)
        )

    async def has_any(self, complaint_id: str) -> bool:
        held = _held(self.session)
        if held is not None and complaint_id in held.clocks:
            if held.clocks[complaint_id]:
                return True
            if complaint_id in held.complete:
                return False
        found = await self.session.scalar(
            select(Clock.clock_id).where(Clock.complaint_id == complaint_id).limit(1)
        )
        return found is not None

    async def has_message_clock(self, complaint_id: str, message_id: str) -> bool:
        """Whether the customer message already has its next-response clock."""
        held = self._held_clocks(complaint_id, every=True)
        if held is not None:
            return any(clock.message_id == message_id for clock in held)
        found = await self.session.scalar(
            select(Clock.clock_id).where(
                Clock.complaint_id == complaint_id, Clock.message_id == message_id
            )
        )
        return found is not None

    async def due(self, now: datetime, *, limit: int) -> Sequence[Clock]:
        """Running clocks whose next threshold is due, locked; replicas share the work:
        each takes the due clocks no other one holds (``SKIP LOCKED``)."""
        query = (
            select(Clock)
            .where(Clock.state == "running", Clock.next_fire_at <= now)
            .order_by(Clock.next_fire_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.scalars(query)).all()

    async def reload(self, clock_ids: Sequence[str]) -> Sequence[Clock]:
        """These clocks read again, overwriting what the session holds (e.g. after a
        rolled-back savepoint expired them), by next firing instant."""
        return (
            await self.session.scalars(
                select(Clock)
                .where(Clock.clock_id.in_(clock_ids))
                .order_by(Clock.next_fire_at)
                .execution_options(populate_existing=True)
            )
        ).all()

    async def open_for_recompute(
        self, *, calendar_id: str | None, after: str | None, limit: int
    ) -> Sequence[Clock]:
        """Open clocks (of one calendar, or all) by clock id after ``after``, locked: a
        consumer changing one of them waits for the batch, and the firing loop, which skips
        locked rows, fires it after the batch under its new deadline."""
        query = select(Clock).where(Clock.state.in_(OPEN_STATES))
        if calendar_id is not None:
            query = query.where(Clock.calendar_id == calendar_id)
        if after is not None:
            query = query.where(Clock.clock_id > after)
        query = query.order_by(Clock.clock_id).limit(limit).with_for_update()
        return (await self.session.scalars(query)).all()

    async def count_open_in_calendar(self, calendar_id: str) -> int:
        count = await self.session.scalar(
            select(func.count())
            .select_from(Clock)
            .where(Clock.calendar_id == calendar_id, Clock.state.in_(OPEN_STATES))
        )
        return int(count or 0)

    async def at_risk(
        self,
        *,
        limit: int,
        teams: Sequence[str] | None = None,
        priorities: Sequence[str] | None = None,
        metric: str | None = None,
    ) -> Sequence[Clock]:
        query = at_risk_query(limit=limit, teams=teams, priorities=priorities, metric=metric)
        return (await self.session.scalars(query)).all()

    async def breach_counts(self, complaint_ids: Collection[str]) -> dict[str, int]:
        """Breached clocks per complaint (complaints without any are left out)."""
        counted = await self.session.execute(
            select(Clock.complaint_id, func.count())
            .where(Clock.complaint_id.in_(list(complaint_ids)), Clock.breached.is_(True))
            .group_by(Clock.complaint_id)
        )
        return {complaint_id: int(count) for complaint_id, count in counted.all()}

    async def running_by_metric(self) -> dict[str, int]:
        rows = await self.session.execute(
            select(Clock.metric, func.count())
            .where(Clock.state == "running")
            .group_by(Clock.metric)
        )
        return {metric: int(count) for metric, count in rows.all()}
