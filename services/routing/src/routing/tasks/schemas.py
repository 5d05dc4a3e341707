"""Bodies and answers of the task API (also the case file's ``tasks``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from routing.tasks.domain.outcomes import ALL_OUTCOMES, CSAT_MAX, CSAT_MIN, OUTCOMES, Outcome
from routing.tasks.service import TaskPage, TaskView

USER_ID = r"^[A-Za-z0-9._:-]{1,100}$"  # ids, never contacts
NOTE = 2000
_OUTCOMES = " ".join(
    f"{kind}: " + "; ".join(f"`{code}` {meaning}" for code, meaning in outcomes.items()) + "."
    for kind, outcomes in OUTCOMES.items()
)
_KINDS = (
    "review_reopen: the team lead reviews a reopened case; follow_up_call: the 回访 call "
    "15–30 days after a P1/P2 resolution (FOLLOW_UP_CALL_AFTER_D / FOLLOW_UP_CALL_DUE_D); "
    "customer_unreachable: no channel reaches the customer for the confirmation request"
)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AssignTaskIn(_In):
    assignee: str = Field(
        pattern=USER_ID,
        description="An agent of the task's team, or the calling lead of that team themself",
    )


class CompleteTaskIn(_In):
    outcome: Outcome = Field(description=f"One of the task's kind (else 422). {_OUTCOMES}")
    note: str | None = Field(
        None,
        min_length=1,
        max_length=NOTE,
        description="Optional; phone numbers and e-mail addresses are masked",
    )
    csat: int | None = Field(
        None,
        ge=CSAT_MIN,
        le=CSAT_MAX,
        description=(
            "Optional, a follow-up call only, when the customer was reached (`reached`, "
            "`new_issue_raised`): the satisfaction 1..5 they gave on the call"
        ),
    )


class TaskOut(BaseModel):
    id: int
    kind: str = Field(description=_KINDS)
    complaint_id: str
    team: str = Field(description="The team whose lead the task is for")
    status: str = Field(description="open or done")
    assignee: str | None = Field(description="Who works it; null: not picked up yet")
    reason: str | None = Field(
        description=(
            "Why: for a review, the reopen reason; `resolved` for a follow-up call; "
            "`no_channel` for an unreachable customer"
        )
    )
    detail: dict[str, Any] = Field(description="What the cause told beyond the reason")
    created_by: str
    created_at: datetime
    due_at: datetime
    available_from: datetime | None = Field(
        description="Not completed before this (a follow-up call's window); null: at once"
    )
    overdue: bool = Field(description="Open and past its due time")
    assigned_by: str | None
    assigned_at: datetime | None
    outcome: str | None = Field(description=f"Once done: {', '.join(ALL_OUTCOMES)}")
    csat: int | None = Field(description="The CSAT a follow-up call recorded, if any")
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
    overdue_count: int = Field(
        description=(
            "Open tasks past their due time that the caller sees with the same team, "
            "assignee and kind filters, over all pages (the status and overdue filters do "
            "not narrow it)"
        )
    )

    @classmethod
    def of(cls, page: TaskPage) -> TaskListOut:
        return cls(
            items=[TaskOut.of(t) for t in page.tasks],
            next=page.next_cursor,
            overdue_count=page.overdue_count,
        )
