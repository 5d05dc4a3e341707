"""The complaint's view as ``GET /v1/complaints/{id}`` (and the tracking link asked for
JSON) answers it: the customer's view, whether the customer or a front end asks. No field
is staff-only: the escalation level, another complaint's id and the repeat count are read
in routing's case file."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from intake.projection import service
from intake.projection.domain.status import shown_close_reason


class HistoryItem(BaseModel):
    event_id: str
    type: str
    source: str
    time: datetime
    data: dict[str, Any]


class CustomerOut(BaseModel):
    customer_ref: str
    masked_phone: str | None
    masked_email: str | None
    tier: str
    language: str


class LinkedComplaintOut(BaseModel):
    id: str
    reference: str
    status: str
    received_at: datetime


class PromiseOut(BaseModel):
    metric: str = Field(description="first_response, next_response or resolution")
    state: str = Field(description="running, paused, met, breached or cancelled")
    due_at: datetime | None = Field(description="The clock's current (or last) deadline")
    stopped_at: datetime | None = None
    breached: bool = False


class ComplaintOut(BaseModel):
    id: str
    reference: str
    status: str
    close_reason: str | None = Field(
        None,
        description=(
            "Why it is closed, while it is: confirmed, auto_closed, duplicate or withdrawn "
            "(the customer withdrew it: shown the moment they do)"
        ),
    )
    channel: str
    subject: str
    category: str | None
    subcategory: str | None
    priority: str | None
    emotion: str | None
    team: str | None
    assignee: str | None
    duplicate_of_reference: str | None = Field(
        None, description="Reference of the complaint that stands when this one is a duplicate"
    )
    received_at: datetime
    updated_at: datetime
    customer: CustomerOut
    related_complaint: LinkedComplaintOut | None = Field(
        None,
        description=(
            "The earlier complaint this one follows up: its customer wrote on it after the "
            "reopen window, which opened this one"
        ),
    )
    follow_ups: list[LinkedComplaintOut] = Field(
        default_factory=list,
        description=(
            "The complaints that follow this one up (opened by a message after the reopen "
            "window), oldest first"
        ),
    )
    history: list[HistoryItem] = Field(
        description=(
            "The steps in time order, without the internals, and what staff told and asked "
            "the customer: a first response or reply with its `message`, "
            "a question (`awaiting_customer`) with its `question`, each with the "
            "`agent_name` it is signed with (the agent's display name, the team's name or a "
            "neutral 'Customer Service' / '客服': never a user id)"
        )
    )
    promises: list[PromiseOut] = Field(
        default_factory=list,
        description=(
            "The times promised to the customer, per metric, from the SLA clocks sla-watch "
            "runs (the clock started last of each metric; none before triage)"
        ),
    )


def complaint_out(view: service.ComplaintView) -> ComplaintOut:
    """The answer for ``view`` (what the caller may see of it is already decided)."""
    complaint = view.complaint
    return ComplaintOut(
        id=complaint.id,
        reference=complaint.reference,
        status=complaint.status,
        close_reason=shown_close_reason(
            status=complaint.status, close_reason=complaint.close_reason
        ),
        channel=complaint.channel,
        subject=complaint.subject,
        category=complaint.category,
        subcategory=complaint.subcategory,
        priority=complaint.priority,
        emotion=complaint.emotion,
        team=complaint.team,
        assignee=complaint.assignee,
        duplicate_of_reference=complaint.duplicate_of_reference,
        received_at=complaint.received_at,
        updated_at=complaint.updated_at,
        customer=CustomerOut(
            customer_ref=complaint.customer_ref,
            masked_phone=complaint.masked_phone,
            masked_email=complaint.masked_email,
            tier=complaint.tier,
            language=complaint.language,
        ),
        related_complaint=_linked(view.related),
        follow_ups=[LinkedComplaintOut(**asdict(link)) for link in view.follow_ups],
        history=[HistoryItem(**asdict(step)) for step in view.history],
        promises=[PromiseOut(**asdict(promise)) for promise in view.promises.values()],
    )


def _linked(link: service.LinkedComplaint | None) -> LinkedComplaintOut | None:
    return LinkedComplaintOut(**asdict(link)) if link is not None else None
