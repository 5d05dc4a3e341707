"""Events produced by sla-watch on the sla topic: clocks, warnings, breaches, escalations (§6).

Durations are business seconds under the clock's calendar (24×7 calendars count every
second). Warnings and breaches are sent exactly once per clock and threshold; one found
only after a restart or downtime is sent at once with `late` set.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from complaint_contracts.base import EventData
from complaint_contracts.events.common import (
    Actor,
    ClockId,
    ComplaintId,
    ErasureCompleted,
    MaskedText,
    Timestamp,
)
from complaint_contracts.vocabulary import Priority

ClockMetric = Literal["first_response", "next_response", "resolution"]
EscalationLevel = Literal[0, 1, 2, 3]
EscalationTrigger = Literal[
    "first_response_breach",
    "next_response_breach",
    "resolution_breach",
    "p1_breach",
    "repeated_breach",
    "manual",
    "de_escalation",
]

_METRIC_DESCRIPTION = (
    "first_response: until the first agent response; next_response: from a customer message "
    "until the agent answers it; resolution: until the complaint is resolved"
)
_ELAPSED_DESCRIPTION = "Business seconds counted on the clock so far (pauses excluded)"


class SlaClockStarted(EventData):
    """An SLA clock started for the complaint, with the target of the matching policy."""

    event_name: ClassVar[str] = "sla.clock_started"

    complaint_id: ComplaintId
    clock_id: ClockId
    metric: ClockMetric = Field(description=_METRIC_DESCRIPTION)
    target_seconds: int = Field(gt=0, description="The target in business seconds")
    started_at: Timestamp
    due_at: Timestamp = Field(description="When the target is reached under the calendar")
    calendar_id: str = Field(
        min_length=1, description="Business calendar the clock counts in", examples=["cn-default"]
    )
    policy_id: str = Field(
        min_length=1, description="SLA policy the target comes from", examples=["default-P3"]
    )
    priority: Priority = Field(description="The complaint's priority when the clock started")
    message_id: str | None = Field(
        None, description="For next_response: the customer message the clock answers"
    )


class SlaClockPaused(EventData):
    """An SLA clock stopped counting while the complaint awaits the customer."""

    event_name: ClassVar[str] = "sla.clock_paused"

    complaint_id: ComplaintId
    clock_id: ClockId
    metric: ClockMetric = Field(description=_METRIC_DESCRIPTION)
    paused_at: Timestamp
    elapsed_seconds: int = Field(ge=0, description=_ELAPSED_DESCRIPTION)
    reason: MaskedText = Field("awaiting_customer", description="Why the clock paused")


class SlaClockResumed(EventData):
    """A paused SLA clock counts again; its deadline moved by the paused business time."""

    event_name: ClassVar[str] = "sla.clock_resumed"

    complaint_id: ComplaintId
    clock_id: ClockId
    metric: ClockMetric = Field(description=_METRIC_DESCRIPTION)
    resumed_at: Timestamp
    elapsed_seconds: int = Field(ge=0, description=_ELAPSED_DESCRIPTION)
    due_at: Timestamp = Field(description="The new deadline")


class SlaClockRescheduled(EventData):
    """An open clock's target or deadline was recomputed (policy, calendar or priority change)."""

    event_name: ClassVar[str] = "sla.clock_rescheduled"

    complaint_id: ComplaintId
    clock_id: ClockId
    metric: ClockMetric = Field(description=_METRIC_DESCRIPTION)
    reason: Literal["policy_changed", "calendar_changed", "priority_changed"]
    target_seconds: int = Field(gt=0, description="The target in business seconds")
    previous_due_at: Timestamp
    due_at: Timestamp = Field(description="The new deadline")
    calendar_id: str = Field(min_length=1)
    policy_id: str = Field(min_length=1)


class SlaClockStopped(EventData):
    """An SLA clock stopped for good: its target event happened or the clock is moot."""

    event_name: ClassVar[str] = "sla.clock_stopped"

    complaint_id: ComplaintId
    clock_id: ClockId
    metric: ClockMetric = Field(description=_METRIC_DESCRIPTION)
    stopped_at: Timestamp
    elapsed_seconds: int = Field(ge=0, description=_ELAPSED_DESCRIPTION)
    outcome: Literal["met", "breached", "cancelled"] = Field(
        description=(
            "met: the target event happened in time; breached: it happened after the "
            "deadline; cancelled: the clock became moot (e.g. duplicate linked, closed)"
        )
    )
    reason: MaskedText = Field(
        "",
        description="What stopped it, e.g. the ce type of the event",
        examples=["org.opencomplaints.complaint.first_response_sent.v1"],
    )


class SlaWarning(EventData):
    """An SLA clock passed a warning threshold (by default 50 %, 75 % and 90 % of the target)."""

    event_name: ClassVar[str] = "sla.warning"

    complaint_id: ComplaintId
    clock_id: ClockId
    metric: ClockMetric = Field(description=_METRIC_DESCRIPTION)
    percent: int = Field(ge=1, le=99, description="The threshold passed, in % of the target")
    reached_at: Timestamp = Field(description="When the clock reached the threshold")
    due_at: Timestamp
    late: bool = Field(
        False, description="Sent after the threshold passed (restart or downtime), not on time"
    )
    priority: Priority


class SlaBreached(EventData):
    """An SLA clock reached 100 % of its target before its target event happened."""

    event_name: ClassVar[str] = "sla.breached"

    complaint_id: ComplaintId
    clock_id: ClockId
    metric: ClockMetric = Field(description=_METRIC_DESCRIPTION)
    due_at: Timestamp = Field(description="The deadline that passed (the breach time)")
    late: bool = Field(
        False, description="Sent after the deadline passed (restart or downtime), not on time"
    )
    priority: Priority
    breach_count: int = Field(
        ge=1, description="Breached clocks of this complaint so far, this one included"
    )


class ComplaintEscalated(EventData):
    """The escalation level of the complaint changed (orthogonal to its state, §3).

    Levels: 0 agent, 1 team lead, 2 manager, 3 senior escalation group.
    """

    event_name: ClassVar[str] = "complaint.escalated"

    complaint_id: ComplaintId
    level: EscalationLevel = Field(description="The new level")
    previous_level: EscalationLevel
    trigger: EscalationTrigger = Field(description="What caused the change")
    reason: MaskedText = Field(min_length=1, description="Why, in words")
    clock_id: ClockId | None = Field(None, description="The breached clock, for breaches")
    metric: ClockMetric | None = Field(None, description="The breached clock's metric")
    actor: Actor

    @model_validator(mode="after")
    def _level_changes(self) -> ComplaintEscalated:
        if self.level == self.previous_level:
            raise ValueError("an escalation must change the level")
        return self


class SlaErasureCompleted(ErasureCompleted):
    """sla-watch holds no personal data of the customer (clocks, facts and escalations only);
    it confirms so that the erasure's status can name every service."""

    event_name: ClassVar[str] = "sla.erasure_completed"

    actor: Actor = "sla-watch"
