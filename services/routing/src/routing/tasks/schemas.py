"""Bodies and answers of the task API (also the case file's ``tasks``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from routing.tasks.domain.rules import OUTCOMES, Outcome
from routing.tasks.service import TaskPage, TaskView

USER_ID = r"^[A-Za-z0-9._:-]{1,100}$"  # ids, never contacts
NOTE = 2000
_OUTCOMES = "; ".join(f"`{code}`: {meaning}" for code, meaning in OUTCOMES.items())


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AssignTaskIn(_In):
    assignee: str = Field(
        pattern=USER_ID,
        description="An agent of the task's team, or the calling lead of that team themself",
    )


class CompleteTaskIn(_In):
    outcome: Outcome = Field(description=f"What the review found: {_OUTCOMES}")
    note: str | None = Field(
        None,
        min_length=1,
        max_length=NOTE,
        description="Optional; phone numbers and e-mail addresses are masked",
    )


class TaskOut(BaseModel):
    id: int
    kind: str = Field(description="review_reopen: the team lead reviews a reopened case")
    complaint_id: str
    team: str = Field(description="The team whose lead the task is for")
    status: str = Field(description="open or done")
    assignee: str | None = Field(description="Who works it; null: not picked up yet")
    reason: str | None = Field(description="Why: for a review, the reopen reason")
    detail: dict[str, Any] = Field(description="What the cause told beyond the reason")
    created_by: str
    created_at: datetime
    due_at: datetime
    assigned_by: str | None
    assigned_at: datetime | None
    outcome: str | None = Field(description=f"Once done: {', '.join(OUTCOMES)}")
    note: str | None = Field(description="The completion note (contacts masked)")
    completed_by: str | None
    completed_at: datetime | None

    @classmethod
    def of(cls, view: TaskView) -> TaskOut:
        return cls.model_validate(view, from_attributes=True)


class TaskListOut(BaseModel):
    items: list[TaskOut] = Field(description="By due time, then id")
    next: str | None = Field(
        description="Opaque cursor of the next page (pass it as `cursor`); null on the last"
    )

    @classmethod
    def of(cls, page: TaskPage) -> TaskListOut:
        return cls(items=[TaskOut.of(t) for t in page.tasks], next=page.next_cursor)
