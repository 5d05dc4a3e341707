"""Events produced by routing on the routing topic: triage, assignment, case handling.

Routing owns the complaint state machine (§3). It applies what other services report
(customer messages from intake, confirmations, reopenings and auto-closures from feedback)
and records every transition of the case here.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from complaint_contracts.base import EventData
from complaint_contracts.events.common import (
    Actor,
    ComplaintId,
    ErasureCompleted,
    MaskedText,
    Timestamp,
    reject_raw_contacts,
)
from complaint_contracts.vocabulary import (
    Category,
    Channel,
    EmotionLevel,
    PreferredChannel,
    Priority,
    SolutionType,
    Tier,
)

DuplicateMatch = Literal[
    "same_customer_ref",
    "same_customer_id",
    "same_phone",
    "same_email",
    "same_order_ref",
    "similar_text",
    "manual",
]
CloseReason = Literal["confirmed", "auto_closed", "duplicate", "withdrawn"]

AgentName = Annotated[
    str,
    AfterValidator(reject_raw_contacts),
    Field(min_length=1, max_length=200, examples=["李娜", "Billing team"]),
]
"""How a message from staff is signed to the customer: never a user id."""

_MESSAGE_DESCRIPTION = (
    "What the agent wrote to the customer, contacts masked; sent to the customer and shown "
    "in their tracking view. Absent: nothing was written (e.g. a phone call logged)"
)
_AGENT_NAME_DESCRIPTION = (
    "How the message is signed to the customer: the agent's display name, else the name "
    "of the case's team; absent when neither is set (sign with a neutral 'customer "
    "service'). Never a user id"
)


class FiredRule(BaseModel):
    """One rule that contributed to a triage decision, so every decision is explainable."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: str = Field(examples=["category.billing_refund.keyword"])
    detail: MaskedText = Field("", examples=["matched '退款'"])


class ComplaintTriaged(EventData):
    """Routing classified the complaint and set its priority and emotion level."""

    event_name: ClassVar[str] = "complaint.triaged"

    complaint_id: ComplaintId
    category: Category
    subcategory: str | None = None
    confidence: float = Field(ge=0.0, le=1.0, description="Classifier confidence, 0..1")
    priority: Priority
    emotion: EmotionLevel
    rules_fired: tuple[FiredRule, ...] = Field(
        (), description="Every rule that fired, in the order they were applied"
    )
    repeat_count: int = Field(
        0,
        ge=0,
        description="Earlier complaints of the same customer and category in the last 30 days",
    )
    channel: Channel | None = Field(
        None, description="The channel the complaint came in on (SLA policies match on it)"
    )
    customer_tier: Tier | None = Field(
        None, description="The customer's tier (SLA policies and assignment match on it)"
    )
    actor: Actor = "routing"


class ComplaintRecategorized(EventData):
    """The category, priority or emotion level of a complaint changed after triage.

    A supervisor's correction, routing raising the priority by one level on a reopen, or
    routing turning the emotion yellow because the same irritation word came back in three
    consecutive customer messages (then category and priority are unchanged).
    """

    event_name: ClassVar[str] = "complaint.recategorized"

    complaint_id: ComplaintId
    old_category: Category
    new_category: Category
    old_subcategory: str | None = None
    new_subcategory: str | None = None
    old_priority: Priority
    new_priority: Priority
    reason: MaskedText = Field(min_length=1, description="Why the category or priority changed")
    actor: Actor
    old_emotion: EmotionLevel | None = Field(
        None, description="The emotion level before, when this change set a new one"
    )
    new_emotion: EmotionLevel | None = Field(
        None, description="The emotion level after, when this change set a new one"
    )
    rules_fired: tuple[FiredRule, ...] = Field(
        (),
        description=(
            "The rules behind the change, e.g. 'supervisor.decision' (the only way to P1 "
            "after triage) or 'emotion.streak'"
        ),
    )


class ComplaintDuplicateLinked(EventData):
    """The complaint duplicates an open complaint and was linked to it, not made a new case.

    Keyed by the duplicate; it shares the original's SLA and is closed with it.
    """

    event_name: ClassVar[str] = "complaint.duplicate_linked"

    complaint_id: ComplaintId = Field(
        description="The duplicate (the later complaint); also the record key"
    )
    duplicate_of: ComplaintId = Field(description="The open complaint it duplicates")
    matched_on: tuple[DuplicateMatch, ...] = Field(
        min_length=1, description="What made the two complaints the same"
    )
    similarity: float | None = Field(
        None, ge=0.0, le=1.0, description="Text similarity, when text was compared"
    )
    actor: Actor


class ComplaintDuplicateUnlinked(EventData):
    """Staff found that a linked complaint is not a duplicate after all and unlinked it.

    Keyed by the former duplicate. It becomes a case of its own: routing triages and
    assigns it (`complaint.triaged`, which arms its clocks in sla-watch).
    """

    event_name: ClassVar[str] = "complaint.duplicate_unlinked"

    complaint_id: ComplaintId = Field(description="The former duplicate; also the record key")
    duplicate_of: ComplaintId = Field(description="The complaint it was linked to")
    reason: MaskedText = Field(min_length=1, max_length=2000, description="Why, in words")
    actor: Actor


class ComplaintEscalationRequested(EventData):
    """A team lead or manager asked, with a reason, to escalate the complaint by hand (§3).

    sla-watch owns the escalation level: it raises the level to `level` when that is higher
    than the current one and reports `complaint.escalated` with trigger `manual` and this
    actor; a request at or below the current level changes nothing.
    """

    event_name: ClassVar[str] = "complaint.escalation_requested"

    complaint_id: ComplaintId
    level: Literal[1, 2, 3] = Field(
        description="The level asked for: 1 team lead, 2 manager, 3 senior escalation group"
    )
    current_level: Literal[0, 1, 2, 3] = Field(
        description="The level routing's case file showed the requester"
    )
    reason: MaskedText = Field(min_length=1, max_length=2000, description="Why, in words")
    actor: Actor
    requested_at: Timestamp


class ComplaintAssigned(EventData):
    """The complaint was given to a team and, when one is free, an agent.

    Without an assignee it waits in the team queue; a later event names the agent. Also sent
    on transfers (`handoff`) and when a reopened complaint goes back to its owner.
    """

    event_name: ClassVar[str] = "complaint.assigned"

    complaint_id: ComplaintId
    team: str
    assignee: str | None = Field(None, description="The agent's user id; none while queued")
    owner: str | None = Field(None, description="First-contact owner (首问负责制)")
    actor: Actor = Field(description="Who assigned: 'routing' or a user id")
    reason: MaskedText = ""
    handoff: bool = Field(
        False, description="A transfer from another agent or team (counts as a hand-off)"
    )
    previous_team: str | None = None
    previous_assignee: str | None = None


class ComplaintFirstResponseSent(EventData):
    """The agent answered the customer for the first time (state `in_progress`).

    Stops the first-response clock. With a `message`, notify sends it to the customer and
    the customer's tracking view shows it; without one (e.g. the answer was a phone call
    the agent logged) nothing is sent.
    """

    event_name: ClassVar[str] = "complaint.first_response_sent"

    complaint_id: ComplaintId
    actor: Actor = Field(description="The agent who responded (user id)")
    channel: PreferredChannel | None = Field(None, description="How the customer was answered")
    responded_at: Timestamp
    message: MaskedText | None = Field(
        None,
        min_length=1,
        description=_MESSAGE_DESCRIPTION,
        examples=["您好，退款已重新提交，预计 3 个工作日内到账。"],
    )
    agent_name: AgentName | None = Field(None, description=_AGENT_NAME_DESCRIPTION)


class ComplaintAgentReplied(EventData):
    """An agent answered a later customer message; stops that message's next-response clock.

    With a `message`, notify sends it to the customer and the tracking view shows it.
    """

    event_name: ClassVar[str] = "complaint.agent_replied"

    complaint_id: ComplaintId
    actor: Actor = Field(description="The agent who replied (user id)")
    in_reply_to: str | None = Field(None, description="message_id of the customer message answered")
    channel: PreferredChannel | None = Field(None, description="How the customer was answered")
    replied_at: Timestamp
    message: MaskedText | None = Field(
        None,
        min_length=1,
        description=_MESSAGE_DESCRIPTION,
        examples=["The bank confirmed the transfer; the money arrives tomorrow."],
    )
    agent_name: AgentName | None = Field(None, description=_AGENT_NAME_DESCRIPTION)


class ComplaintAwaitingCustomer(EventData):
    """The agent is waiting for the customer (state `awaiting_customer`).

    Pauses the resolution clock until the customer answers or the agent resumes. The
    question (`reason`) is sent to the customer and shown in their tracking view; their
    answer (`complaint.customer_message_received`) resumes the case.
    """

    event_name: ClassVar[str] = "complaint.awaiting_customer"

    complaint_id: ComplaintId
    actor: Actor
    reason: MaskedText = Field(
        "",
        description="The question the customer was asked, contacts masked",
        examples=["Please send us the refund slip number."],
    )
    since: Timestamp
    agent_name: AgentName | None = Field(None, description=_AGENT_NAME_DESCRIPTION)


class ComplaintResumed(EventData):
    """Work resumed after waiting for the customer (back to `in_progress`).

    Resumes the resolution clock.
    """

    event_name: ClassVar[str] = "complaint.resumed"

    complaint_id: ComplaintId
    trigger: Literal["customer_message", "agent"] = Field(
        description="A customer message arrived, or the agent resumed without one"
    )
    message_id: str | None = Field(None, description="The customer message, if one resumed it")
    actor: Actor
    resumed_at: Timestamp


class ComplaintResolved(EventData):
    """The agent resolved the complaint (state `resolved`).

    The closure guard (§2) holds by construction: solution, solution type and root cause are
    required. Stops the resolution clock; feedback then asks the customer to confirm.
    """

    event_name: ClassVar[str] = "complaint.resolved"

    complaint_id: ComplaintId
    solution_summary: MaskedText = Field(min_length=1, description="What was done for the customer")
    solution_type: SolutionType
    root_cause: MaskedText = Field(min_length=1, description="Why the problem happened")
    preventive_measure: MaskedText | None = Field(
        None, description="What prevents it from happening again"
    )
    actor: Actor = Field(description="The agent who resolved it (user id)")
    resolved_at: Timestamp


_EVIDENCE_REQUIRED: tuple[CloseReason, ...] = ("confirmed", "auto_closed")


class ComplaintClosed(EventData):
    """The complaint is closed (state `closed`).

    Closure guard (§2): `confirmed` and `auto_closed` closures name the feedback event
    (`complaint.confirmed` / `complaint.auto_closed`) that allowed them.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "if": {
                "properties": {"reason": {"enum": list(_EVIDENCE_REQUIRED)}},
                "required": ["reason"],
            },
            "then": {
                "properties": {"evidence_event_id": {"type": "string", "minLength": 1}},
                "required": ["evidence_event_id"],
            },
        }
    )

    event_name: ClassVar[str] = "complaint.closed"

    complaint_id: ComplaintId
    reason: CloseReason = Field(
        description=(
            "confirmed: the customer confirmed the solution; auto_closed: no answer before "
            "the confirmation timeout; duplicate: closed with the complaint it duplicates; "
            "withdrawn: the customer withdrew it"
        )
    )
    evidence_event_id: str | None = Field(
        None,
        description=(
            "ce_id of the feedback event that allowed the closure; required for "
            "confirmed and auto_closed"
        ),
    )
    confirmation_request_id: str | None = Field(
        None, description="The confirmation request answered or timed out"
    )
    actor: Actor
    closed_at: Timestamp

    @model_validator(mode="after")
    def _closure_guard(self) -> ComplaintClosed:
        if self.reason in _EVIDENCE_REQUIRED and not self.evidence_event_id:
            raise ValueError(f"a {self.reason} closure needs evidence_event_id")
        return self


class CaseErasureCompleted(ErasureCompleted):
    """Routing blanked the case's texts, masked contacts, attachment links, duplicate keys and
    staff notes about the customer (categories, priorities, times and KPIs stay)."""

    event_name: ClassVar[str] = "case.erasure_completed"

    actor: Actor = "routing"
