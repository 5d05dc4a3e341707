"""Every event data model of the platform, grouped by the topic its producer writes."""

from __future__ import annotations

from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_contracts.events.feedback import (
    ComplaintAutoClosed,
    ComplaintConfirmationRequested,
    ComplaintConfirmed,
    ComplaintReopened,
    FeedbackErasureCompleted,
    NpsAnswered,
    NpsSurveyRequested,
)
from complaint_contracts.events.intake import (
    AttachmentRef,
    ComplaintContactsCorrected,
    ComplaintReceived,
    ComplaintWithdrawn,
    CustomerMessageReceived,
    CustomerView,
    ErasureRequested,
    TrackingCodeRequested,
)
from complaint_contracts.events.notify import (
    NotificationErasureCompleted,
    NotificationFailed,
    NotificationSent,
)
from complaint_contracts.events.routing import (
    CaseErasureCompleted,
    ComplaintAgentReplied,
    ComplaintAssigned,
    ComplaintAwaitingCustomer,
    ComplaintClosed,
    ComplaintDuplicateLinked,
    ComplaintDuplicateUnlinked,
    ComplaintEscalationRequested,
    ComplaintFirstResponseSent,
    ComplaintRecategorized,
    ComplaintResolved,
    ComplaintResumed,
    ComplaintTriaged,
    FiredRule,
)
from complaint_contracts.events.sla import (
    ComplaintEscalated,
    SlaBreached,
    SlaClockPaused,
    SlaClockRescheduled,
    SlaClockResumed,
    SlaClockStarted,
    SlaClockStopped,
    SlaErasureCompleted,
    SlaWarning,
)

EVENTS_BY_TOPIC: dict[str, tuple[type[EventData], ...]] = {
    topics.INTAKE.name: (
        ComplaintReceived,
        CustomerMessageReceived,
        ComplaintWithdrawn,
        ComplaintContactsCorrected,
        ErasureRequested,
        TrackingCodeRequested,
    ),
    topics.ROUTING.name: (
        ComplaintTriaged,
        ComplaintRecategorized,
        ComplaintDuplicateLinked,
        ComplaintDuplicateUnlinked,
        ComplaintEscalationRequested,
        ComplaintAssigned,
        ComplaintFirstResponseSent,
        ComplaintAgentReplied,
        ComplaintAwaitingCustomer,
        ComplaintResumed,
        ComplaintResolved,
        ComplaintClosed,
        CaseErasureCompleted,
    ),
    topics.SLA.name: (
        SlaClockStarted,
        SlaClockPaused,
        SlaClockResumed,
        SlaClockRescheduled,
        SlaClockStopped,
        SlaWarning,
        SlaBreached,
        ComplaintEscalated,
        SlaErasureCompleted,
    ),
    topics.FEEDBACK.name: (
        ComplaintConfirmationRequested,
        ComplaintConfirmed,
        ComplaintReopened,
        ComplaintAutoClosed,
        NpsSurveyRequested,
        NpsAnswered,
        FeedbackErasureCompleted,
    ),
    topics.NOTIFY.name: (NotificationSent, NotificationFailed, NotificationErasureCompleted),
}

ALL_EVENTS: tuple[type[EventData], ...] = tuple(
    model for models in EVENTS_BY_TOPIC.values() for model in models
)

TOPIC_BY_EVENT: dict[type[EventData], str] = {
    model: topic for topic, models in EVENTS_BY_TOPIC.items() for model in models
}


def topic_for(model: type[EventData] | EventData) -> str:
    """The topic an event data type is produced to."""
    cls = model if isinstance(model, type) else type(model)
    return TOPIC_BY_EVENT[cls]


__all__ = [
    "ALL_EVENTS",
    "EVENTS_BY_TOPIC",
    "TOPIC_BY_EVENT",
    "AttachmentRef",
    "CaseErasureCompleted",
    "ComplaintAgentReplied",
    "ComplaintAssigned",
    "ComplaintAutoClosed",
    "ComplaintAwaitingCustomer",
    "ComplaintClosed",
    "ComplaintConfirmationRequested",
    "ComplaintConfirmed",
    "ComplaintContactsCorrected",
    "ComplaintDuplicateLinked",
    "ComplaintDuplicateUnlinked",
    "ComplaintEscalated",
    "ComplaintEscalationRequested",
    "ComplaintFirstResponseSent",
    "ComplaintRecategorized",
    "ComplaintReceived",
    "ComplaintReopened",
    "ComplaintResolved",
    "ComplaintResumed",
    "ComplaintTriaged",
    "ComplaintWithdrawn",
    "CustomerMessageReceived",
    "CustomerView",
    "ErasureRequested",
    "FeedbackErasureCompleted",
    "FiredRule",
    "NotificationErasureCompleted",
    "NotificationFailed",
    "NotificationSent",
    "NpsAnswered",
    "NpsSurveyRequested",
    "SlaBreached",
    "SlaClockPaused",
    "SlaClockRescheduled",
    "SlaClockResumed",
    "SlaClockStarted",
    "SlaClockStopped",
    "SlaErasureCompleted",
    "SlaWarning",
    "TrackingCodeRequested",
    "topic_for",
]
