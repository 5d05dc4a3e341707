"""The case file's tables and its repository: the texts and customer of each case, its
conversation, its SLA clocks as routing projects them, and its search terms.

Nothing here is a raw contact: events carry masked contacts and redacted texts only, staff
texts are masked before they are stored. An erasure blanks the texts and drops the terms
(:meth:`CaseFileRepository.erase`). Cases created before these tables have no row in
``case_files``: their case file shows the texts as absent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from complaint_runtime.database import Base, BigId, UTCDateTime, dialect_insert, utcnow
from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    delete,
    false,
    func,
    insert,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from routing.casefile.domain.listing import CaseFilters, ListPosition
from routing.casefile.domain.search import SearchQuery
from routing.casefile.domain.sla import ClockProjection
from routing.casefile.domain.visibility import Visibility
from routing.db import Case, CaseAction

ID_LENGTH = 200  # message and clock ids: longer ones are cut (ids are UUIDs in practice)


class CaseFile(Base):
    """What ``complaint.received`` told of the complaint beyond its triage (masked)."""

    __tablename__ = "case_files"

    complaint_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("cases.complaint_id"), primary_key=True
    )
    # For the order of a flush only, never loaded (see ``CaseAction.case``).
    case: Mapped[Case] = relationship(lazy="raise")
    subject: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    order_ref: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # [{"url", "media_type", "size"}]; an erasure blanks the urls.
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The front end's flat string map (``metadata`` is taken by the declarative base).
    custom_metadata: Mapped[dict[str, str]] = mapped_column("metadata", JSON, default=dict)
    customer_external_ref: Mapped[str | None] = mapped_column(Text)
    customer_masked_phone: Mapped[str | None] = mapped_column(Text)
    customer_masked_email: Mapped[str | None] = mapped_column(Text)
    customer_preferred_channel: Mapped[str | None] = mapped_column(String(16))
    # The earlier complaint this one follows up (written after the reopen window); indexed
    # for the other direction: the follow-ups of a complaint.
    related_complaint_id: Mapped[str | None] = mapped_column(String(36), index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CaseMessage(Base):
    """One message of the conversation: the customer's (``customer_message``) or staff's
    (``first_response``, ``reply``, ``question``); ``kind`` leaves room for internal notes.
    A customer message is stored once per message id."""

    __tablename__ = "case_messages"
    __table_args__ = (
        UniqueConstraint("complaint_id", "message_id"),
        Index("ix_case_messages_complaint_at", "complaint_id", "at", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    complaint_id: Mapped[str] = mapped_column(String(36), ForeignKey("cases.complaint_id"))
    # For the order of a flush only, never loaded (see ``CaseAction.case``).
    case: Mapped[Case] = relationship(lazy="raise")
    kind: Mapped[str] = mapped_column(String(24))
    author: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    message_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    in_reply_to: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    event_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


# Where a transaction keeps the clocks it locked for a batch, in ``Session.info`` (which also
# holds them strongly: the identity map alone would let unchanged rows go).
_HELD_CLOCKS = "routing.held_clocks"


class CaseSlaClock(Base):
    """One SLA clock as routing projects sla-watch's events. A clock id names a clock of
    its complaint. No foreign key: a clock event may come before routing has the case (see
    ``routing.casefile.sla_projection``)."""

    __tablename__ = "case_sla_clocks"

    complaint_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    clock_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    metric: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(12))
    target_seconds: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warned_percent: Mapped[int | None] = mapped_column(Integer)
    breached: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    outcome: Mapped[str | None] = mapped_column(String(12))
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def projection(self) -> ClockProjection:
        return ClockProjection(
            clock_id=self.clock_id,
            complaint_id=self.complaint_id,
            metric=self.metric,
            state=self.state,  # type: ignore[arg-type]  # the column only holds ClockStates
            target_seconds=self.target_seconds,
            started_at=self.started_at,
            due_at=self.due_at,
            warned_percent=self.warned_percent,
            breached=self.breached,
            outcome=self.outcome,
            stopped_at=self.stopped_at,
            message_id=self.message_id,
        )


class CaseSearchTerm(Base):
    """term → case: a case matches a query when it holds every term of it."""

    __tablename__ = "case_search_terms"

    term: Mapped[str] = mapped_column(String(100), primary_key=True)
    complaint_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("cases.complaint_id"), primary_key=True, index=True
    )


class CaseFileRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    # -- the case file

    async def file(self, complaint_id: str) -> CaseFile | None:
        return await self.session.get(CaseFile, complaint_id)

    def add_file(self, case_file: CaseFile) -> None:
        self.session.add(case_file)

    async def follow_ups(self, complaint_id: str, *, limit: int) -> list[Case]:
        """The cases that follow up ``complaint_id`` (opened when its customer wrote after
        the reopen window), oldest first, ``limit`` at most."""
        rows = await self.session.scalars(
            select(Case)
            .join(CaseFile, CaseFile.complaint_id == Case.complaint_id)
            .where(CaseFile.related_complaint_id == complaint_id)
            .order_by(Case.received_at, Case.complaint_id)
            .limit(limit)
        )
        return list(rows)

    async def messages(self, complaint_id: str, *, limit: int) -> list[CaseMessage]:
        """The latest ``limit`` messages of the conversation, oldest first."""
        rows = await self.session.scalars(
            select(CaseMessage)
            .where(CaseMessage.complaint_id == complaint_id)
            .order_by(CaseMessage.at.desc(), CaseMessage.id.desc())
            .limit(limit)
        )
        return list(reversed(list(rows)))

    def add_message(self, message: CaseMessage) -> None:
        self.session.add(message)

    async def add_message_once(self, values: dict[str, Any]) -> bool:
        """Insert a message unless the complaint already has one with its ``message_id``
        (ON CONFLICT DO NOTHING on both databases); whether it was inserted."""
        statement = (
            dialect_insert(self.session)(CaseMessage)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["complaint_id", "message_id"])
        )
        result = await self.session.execute(statement)
        return bool(getattr(result, "rowcount", 0))

    # -- clocks

    async def lock_clocks_for_batch(self, complaint_ids: Iterable[str]) -> None:
        """Lock every clock of these complaints in one statement (in key order) for the rest
        of the transaction: :meth:`clock_for_update` and :meth:`clocks` then answer them
        from memory, and clocks added meanwhile join them (a consumer's batch)."""
        ids = sorted(set(complaint_ids))
        if not ids:
            return
        rows = await self.session.scalars(
            select(CaseSlaClock)
            .where(CaseSlaClock.complaint_id.in_(ids))
            .order_by(CaseSlaClock.complaint_id, CaseSlaClock.clock_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        held: dict[str, dict[str, CaseSlaClock]] = self.session.info.setdefault(_HELD_CLOCKS, {})
        for complaint_id in ids:
            held.setdefault(complaint_id, {})
        for row in rows:
            held[row.complaint_id][row.clock_id] = row

    def _held(self, complaint_id: str) -> dict[str, CaseSlaClock] | None:
        held: dict[str, dict[str, CaseSlaClock]] = self.session.info.get(_HELD_CLOCKS, {})
        return held.get(complaint_id)

    async def clock_for_update(self, complaint_id: str, clock_id: str) -> CaseSlaClock | None:
        held = self._held(complaint_id)
        if held is not None:
            return held.get(clock_id)
        return await self.session.get(CaseSlaClock, (complaint_id, clock_id), with_for_update=True)

    def add_clock(self, clock: CaseSlaClock) -> None:
        self.session.add(clock)
        held = self._held(clock.complaint_id)
        if held is not None:
            held[clock.clock_id] = clock

    async def clocks(self, complaint_id: str) -> list[CaseSlaClock]:
        held = self._held(complaint_id)
        if held is not None:  # the same order as the query's (NULLs last)
            return sorted(held.values(), key=_clock_order)
        rows = await self.session.scalars(
            select(CaseSlaClock)
            .where(CaseSlaClock.complaint_id == complaint_id)
            .order_by(CaseSlaClock.started_at, CaseSlaClock.clock_id)
        )
        return list(rows)

    # -- search terms

    async def replace_terms(self, complaint_id: str, terms: Sequence[str]) -> None:
        await self.session.execute(
            delete(CaseSearchTerm).where(CaseSearchTerm.complaint_id == complaint_id)
        )
        await self.add_terms(complaint_id, terms)

    async def add_terms(self, complaint_id: str, terms: Sequence[str]) -> None:
        """The search terms of a case that has none yet (a new case file)."""
        if terms:
            await self.session.execute(
                insert(CaseSearchTerm), [{"term": t, "complaint_id": complaint_id} for t in terms]
            )

    async def terms(self, complaint_id: str) -> list[str]:
        rows = await self.session.scalars(
            select(CaseSearchTerm.term).where(CaseSearchTerm.complaint_id == complaint_id)
        )
        return sorted(rows)

    # -- erasure

    async def erase(self, complaint_id: str, *, at: datetime) -> None:
        """Blank the complaint's free texts, masked contacts, attachment urls, metadata
        values and message texts (the search terms are the caller's to rebuild)."""
        case_file = await self.file(complaint_id)
        if case_file is not None:
            case_file.subject = case_file.description = case_file.order_ref = None
            case_file.customer_external_ref = None
            case_file.customer_masked_phone = case_file.customer_masked_email = None
            case_file.attachments = _without_urls(case_file.attachments)
            case_file.custom_metadata = dict.fromkeys(case_file.custom_metadata, "")
            case_file.erased_at = at
        messages = await self.session.scalars(
            select(CaseMessage).where(CaseMessage.complaint_id == complaint_id)
        )
        for message in messages:
            message.text = None
            message.attachments = _without_urls(message.attachments)

    async def blank_action_texts(
        self, complaint_id: str, texts: Mapping[str, Sequence[str]]
    ) -> None:
        """The copies of message texts the history keeps: ``texts`` names, per action, the
        detail keys that hold one."""
        actions = await self.session.scalars(
            select(CaseAction).where(
                CaseAction.complaint_id == complaint_id, CaseAction.action.in_(list(texts))
            )
        )
        for action in actions:
            keys = [key for key in texts[action.action] if action.detail.get(key)]
            if keys:
                action.detail = {**action.detail, **dict.fromkeys(keys)}

    # -- case lists

    async def list_cases(
        self,
        *,
        visibility: Visibility,
        filters: CaseFilters,
        assignees: Sequence[str],
        search: SearchQuery | None,
        after: ListPosition | None,
        limit: int,
    ) -> list[tuple[Case, str | None]]:
        """Visible cases matching ``filters`` in list order after ``after``, with their
        subject; ``limit`` rows at most."""
        conditions = [
            _visible(visibility),
            *_filtered(filters, assignees),
            *_searched(search),
            *_after(after),
        ]
        rows = await self.session.execute(
            select(Case, CaseFile.subject)
            .outerjoin(CaseFile, CaseFile.complaint_id == Case.complaint_id)
            .where(*conditions)
            .order_by(Case.sla_due_at.asc().nulls_last(), Case.received_at, Case.complaint_id)
            .limit(limit)
        )
        return [(case, subject) for case, subject in rows]

    async def warned_percents(self, complaint_ids: Sequence[str]) -> dict[str, int]:
        """complaint id → the highest warning percent reached on the case's running, not
        breached clock due first (the clock ``cases.sla_due_at`` comes from), for a page of
        cases in one query; a case without such a warning is absent."""
        if not complaint_ids:
            return {}
        rows = await self.session.execute(
            select(CaseSlaClock.complaint_id, func.max(CaseSlaClock.warned_percent))
            .join(Case, Case.complaint_id == CaseSlaClock.complaint_id)
            .where(
                CaseSlaClock.complaint_id.in_(sorted(set(complaint_ids))),
                CaseSlaClock.state == "running",
                CaseSlaClock.breached.is_(False),
                CaseSlaClock.warned_percent.is_not(None),
                CaseSlaClock.due_at == Case.sla_due_at,
            )
            .group_by(CaseSlaClock.complaint_id)
        )
        return {complaint_id: percent for complaint_id, percent in rows if percent is not None}


def _without_urls(attachments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**attachment, "url": None} for attachment in attachments]


def _visible(visibility: Visibility) -> ColumnElement[bool]:
    if visibility.everything:
        return true()
    scopes: list[ColumnElement[bool]] = []
    if visibility.team is not None:
        scopes.append(Case.team == visibility.team)
    if visibility.assignee is not None:
        scopes.append(Case.assignee == visibility.assignee)
    return or_(*scopes) if scopes else false()


def _filtered(filters: CaseFilters, assignees: Sequence[str]) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    for column, values in (
        (Case.assignee, assignees),
        (Case.team, filters.teams),
        (Case.status, filters.statuses),
        (Case.priority, filters.priorities),
        (Case.channel, filters.channels),
        (Case.category, filters.categories),
    ):
        if values:
            conditions.append(column.in_(sorted(set(values))))
    if filters.sla:
        flags = {"at_risk": Case.sla_at_risk, "breached": Case.sla_breached}
        conditions.append(or_(*(flags[name].is_(True) for name in sorted(set(filters.sla)))))
    return conditions


def _searched(search: SearchQuery | None) -> list[ColumnElement[bool]]:
    if search is None:
        return []
    matches = []
    if search.terms:
        matches.append(
            select(CaseSearchTerm.complaint_id)
            .where(CaseSearchTerm.term.in_(search.terms))
            .group_by(CaseSearchTerm.complaint_id)
            .having(func.count() == len(search.terms))
        )
    if search.whole is not None:
        matches.append(
            select(CaseSearchTerm.complaint_id).where(CaseSearchTerm.term == search.whole)
        )
    if not matches:
        return [false()]
    return [or_(*(Case.complaint_id.in_(match) for match in matches))]


def _after(position: ListPosition | None) -> list[ColumnElement[bool]]:
    """Rows strictly after ``position`` in the order (due time NULLS LAST, received time,
    complaint id), written out so that both databases read it the same way."""
    if position is None:
        return []
    later_same_due = or_(
        Case.received_at > position.received_at,
        and_(
            Case.received_at == position.received_at,
            Case.complaint_id > position.complaint_id,
        ),
    )
    if position.due_at is None:
        return [Case.sla_due_at.is_(None), later_same_due]
    return [
        or_(
            Case.sla_due_at.is_(None),
            Case.sla_due_at > position.due_at,
            and_(Case.sla_due_at == position.due_at, later_same_due),
        )
    ]


def _clock_order(clock: CaseSlaClock) -> tuple[bool, datetime, str]:
    started = clock.started_at
    return (started is None, started or datetime.min.replace(tzinfo=UTC), clock.clock_id)
