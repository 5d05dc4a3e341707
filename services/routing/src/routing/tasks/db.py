"""The tasks table and its repository.

A task points at its case (foreign key) and, when an event caused it, at that event:
``(kind, complaint_id, source_event_id)`` is unique, so a task an event creates is created
once even if the event were applied twice (``add_once``: ON CONFLICT DO NOTHING on both
databases). A case has at most one open task of each kind but the review (a partial unique
index, ``uq_tasks_one_open``): two resolutions cannot leave two open follow-up calls, two
reports two unreachable-customer tasks (``add_open_once``). Task texts (the completion
note) are staff texts, masked before they are stored, blanked by an erasure.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from complaint_runtime.database import Base, BigId, UTCDateTime, dialect_insert
from sqlalchemy import (
    JSON,
    ColumnElement,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    and_,
    false,
    func,
    not_,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from routing.casefile.domain.visibility import Visibility
from routing.tasks.domain.listing import TaskFilters, TaskPosition

if TYPE_CHECKING:
    from routing.db import Case

ID_LENGTH = 200
# The keys of a task's detail that name the customer (routing.tasks.opening: notify's
# masked recipient of a customer no channel reaches), blanked by an erasure.
_PERSONAL_DETAIL = ("recipient",)
# routing.tasks.domain.rules.SINGLE_OPEN_KINDS: every kind but the review.
_SINGLE_OPEN = text("status = 'open' AND kind <> 'review_reopen'")


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("kind", "complaint_id", "source_event_id"),
        # The lists: by due time then id, overall and per team.
        Index("ix_tasks_due_order", "due_at", "id"),
        Index("ix_tasks_team_due_order", "team", "due_at", "id"),
        Index(
            "uq_tasks_one_open",
            "complaint_id",
            "kind",
            unique=True,
            postgresql_where=_SINGLE_OPEN,
            sqlite_where=_SINGLE_OPEN,
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    complaint_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("cases.complaint_id"), index=True
    )
    # For the order of a flush only, never loaded (see ``routing.db.CaseAction.case``).
    case: Mapped[Case] = relationship("Case", lazy="raise")
    team: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(8))
    assignee: Mapped[str | None] = mapped_column(String(100), index=True)
    # Why the task exists: for a review, the reopen reason code (not_solved, low_csat, ...).
    reason: Mapped[str | None] = mapped_column(String(60))
    # What the cause told beyond the reason, no free text (e.g. the CSAT score).
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source_event_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Not workable before (a follow-up call's window); NULL: at once.
    available_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_by: Mapped[str | None] = mapped_column(String(200))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    # The CSAT 1..5 the customer gave on a follow-up call, if they gave one.
    csat: Mapped[int | None] = mapped_column(SmallInteger)
    completed_by: Mapped[str | None] = mapped_column(String(200))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TaskRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def add_once(self, values: dict[str, Any]) -> int | None:
        """Insert a task unless one of its kind already exists for the case and the
        source event; the new task's id, None when it existed."""
        statement = (
            dialect_insert(self.session)(Task)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["kind", "complaint_id", "source_event_id"])
            .returning(Task.id)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def add_open_once(self, values: dict[str, Any]) -> int | None:
        """Insert an open task unless the case has an open one of its kind already (or the
        event made it before): ON CONFLICT DO NOTHING on any unique index, so the partial
        one holds too. The new task's id, None when there was one."""
        statement = (
            dialect_insert(self.session)(Task)
            .values(**values)
            .on_conflict_do_nothing()
            .returning(Task.id)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def open_of_kind(self, complaint_id: str, kind: str) -> Task | None:
        """The case's open task of ``kind``, row-locked (the caller holds the case's lock)."""
        return await self.session.scalar(
            select(Task)
            .where(Task.complaint_id == complaint_id, Task.kind == kind, Task.status == "open")
            .order_by(Task.id)
            .limit(1)
            .with_for_update()
        )

    async def get(self, task_id: int) -> Task | None:
        return await self.session.get(Task, task_id)

    async def get_for_update(self, task_id: int) -> Task | None:
        """The task as committed now, row-locked on PostgreSQL so that concurrent changes
        serialise (SQLite serialises writers with BEGIN IMMEDIATE already)."""
        return await self.session.get(Task, task_id, with_for_update=True, populate_existing=True)

    async def of_case(self, complaint_id: str, *, limit: int) -> list[Task]:
        """The case's tasks, oldest first."""
        rows = await self.session.scalars(
            select(Task).where(Task.complaint_id == complaint_id).order_by(Task.id).limit(limit)
        )
        return list(rows)

    async def list_tasks(
        self,
        *,
        visibility: Visibility,
        filters: TaskFilters,
        assignee: str | None,
        after: TaskPosition | None,
        limit: int,
        now: datetime,
    ) -> list[Task]:
        """Visible tasks matching ``filters`` (``assignee`` resolved from ``me``, overdue
        at ``now``) in list order after ``after``; ``limit`` rows at most."""
        conditions = [
            _visible(visibility),
            *_filtered(filters, assignee, now),
            *_after(after),
        ]
        rows = await self.session.scalars(
            select(Task).where(*conditions).order_by(Task.due_at, Task.id).limit(limit)
        )
        return list(rows)

    async def count_overdue(
        self, *, visibility: Visibility, filters: TaskFilters, assignee: str | None, now: datetime
    ) -> int:
        """Visible open tasks past their due time at ``now`` matching ``filters`` (their
        status and overdue filters aside: the count is of overdue tasks)."""
        overdue_only = TaskFilters(
            status="open", team=filters.team, assignee=filters.assignee, kind=filters.kind
        )
        conditions = [_visible(visibility), *_filtered(overdue_only, assignee, now)]
        found = await self.session.scalar(
            select(func.count()).select_from(Task).where(*conditions, Task.due_at < now)
        )
        return int(found or 0)

    async def erase(self, complaint_id: str) -> None:
        """Erasure: the completion notes of the case's tasks (staff texts about it) and
        what their detail names of the customer (an unreachable customer's masked
        address); kinds, reasons, outcomes, CSAT and times stay."""
        await self.session.execute(
            update(Task)
            .where(Task.complaint_id == complaint_id, Task.note.is_not(None))
            .values(note=None)
            .execution_options(synchronize_session=False)
        )
        tasks = await self.session.scalars(select(Task).where(Task.complaint_id == complaint_id))
        for task in tasks:
            if any(task.detail.get(key) is not None for key in _PERSONAL_DETAIL):
                task.detail = {**task.detail, **dict.fromkeys(_PERSONAL_DETAIL)}


def _visible(visibility: Visibility) -> ColumnElement[bool]:
    if visibility.everything:
        return true()
    scopes: list[ColumnElement[bool]] = []
    if visibility.team is not None:
        scopes.append(Task.team == visibility.team)
    if visibility.assignee is not None:
        scopes.append(Task.assignee == visibility.assignee)
    return or_(*scopes) if scopes else false()


def _filtered(
    filters: TaskFilters, assignee: str | None, now: datetime
) -> Sequence[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.overdue is not None:
        # routing.tasks.domain.rules.overdue, as SQL
        late = and_(Task.status == "open", Task.due_at < now)
        conditions.append(late if filters.overdue else not_(late))
    for column, value in (
        (Task.status, filters.status),
        (Task.team, filters.team),
        (Task.assignee, assignee),
        (Task.kind, filters.kind),
    ):
        if value is not None:
            conditions.append(column == value)
    return conditions


def _after(position: TaskPosition | None) -> Sequence[ColumnElement[bool]]:
    if position is None:
        return []
    return [
        or_(
            Task.due_at > position.due_at,
            and_(Task.due_at == position.due_at, Task.id > position.task_id),
        )
    ]
