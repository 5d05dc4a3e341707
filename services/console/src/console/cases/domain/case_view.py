"""A case file (routing's ``GET /v1/cases/{id}``) as the case page shows it: the
conversation with the case's history woven in (system events in grey, internal notes
apart), the properties, each SLA clock with its badge, duplicates and earlier complaints.

Texts are routing's: masked contacts, and absent after an erasure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

from console.board.domain.task_view import TaskView, task_views
from console.cases.domain.sla_badge import SlaBadge, clock_badge, sla_badge
from console.queue.domain.rows import parse_time

EntryKind = Literal["customer", "staff", "note", "system"]
# History entries already shown as a message of the conversation (or not worth showing).
_SHOWN_AS_MESSAGES: Final = frozenset(
    {"received", "first_response_sent", "agent_replied", "awaiting_customer",
     "customer_message_received", "note_added"}
)  # fmt: skip
_STAFF_MESSAGES: Final = frozenset({"first_response", "reply", "question"})
_EARLIEST: Final = datetime.min.replace(tzinfo=UTC)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: object, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


@dataclass(frozen=True, slots=True)
class Attachment:
    url: str | None
    media_type: str
    size: int


@dataclass(frozen=True, slots=True)
class Entry:
    """One item of the conversation, oldest first."""

    kind: EntryKind
    subtype: str  # description, customer_message, first_response, reply, question, note,
    # or a history action (assigned, resolved, escalated, ...)
    author: str | None
    text: str | None
    at: datetime | None
    attachments: tuple[Attachment, ...] = ()
    from_status: str | None = None
    to_status: str | None = None
    task_kind: str | None = None  # a task's history entry: the task's kind
    task_outcome: str | None = None  # and the outcome it was completed with


@dataclass(frozen=True, slots=True)
class ClockView:
    metric: str
    state: str
    due_at: datetime | None
    badge: SlaBadge
    outcome: str | None


@dataclass(frozen=True, slots=True)
class CaseLink:
    complaint_id: str
    reference: str
    status: str | None
    category: str | None
    received_at: datetime | None


@dataclass(frozen=True, slots=True)
class CaseView:
    complaint_id: str
    reference: str
    version: int | None  # None: a routing without case versions (no If-Match then)
    subject: str | None
    status: str | None
    priority: str | None
    category: str | None
    subcategory: str | None
    confidence: float | None
    emotion: str | None
    channel: str | None
    team: str | None
    assignee: str | None
    owner: str | None
    escalation_level: int
    tier: str | None
    language: str | None
    masked_phone: str | None
    masked_email: str | None
    order_ref: str | None
    received_at: datetime | None
    rules_fired: tuple[tuple[str, str], ...]
    sla: SlaBadge
    clocks: tuple[ClockView, ...]
    duplicate_of: CaseLink | None
    copies: tuple[CaseLink, ...]
    repeat_count: int
    earlier: tuple[CaseLink, ...]
    conversation: tuple[Entry, ...]
    tasks: tuple[TaskView, ...]
    resolution: Mapping[str, str | None]
    last_customer_message_id: str | None
    erased: bool


def _attachments(value: object) -> tuple[Attachment, ...]:
    return tuple(
        Attachment(_text(a.get("url")), str(a.get("media_type", "")), _int(a.get("size")))
        for a in _list(value)
    )


def _link(value: object) -> CaseLink | None:
    if not isinstance(value, Mapping):
        return None
    return CaseLink(
        complaint_id=str(value.get("complaint_id", "")),
        reference=str(value.get("reference", "")),
        status=_text(value.get("status")),
        category=_text(value.get("category")),
        received_at=parse_time(value.get("received_at")),
    )


def _clock(value: Mapping[str, Any]) -> ClockView:
    state = str(value.get("state", ""))
    seconds = value.get("time_left_s")
    return ClockView(
        metric=str(value.get("metric", "")),
        state=state,
        due_at=parse_time(value.get("due_at")),
        badge=clock_badge(
            state=state,
            breached=bool(value.get("breached")),
            warned_percent=_int(value.get("warned_percent"), 0) or None,
            seconds_left=seconds if isinstance(seconds, int) else None,
        ),
        outcome=_text(value.get("outcome")),
    )


def _message(value: Mapping[str, Any]) -> Entry:
    kind = str(value.get("kind", ""))
    if kind == "note" or value.get("internal") is True:
        entry_kind: EntryKind = "note"
    elif kind in _STAFF_MESSAGES:
        entry_kind = "staff"
    else:
        entry_kind = "customer"
    return Entry(
        kind=entry_kind,
        subtype=kind or "customer_message",
        author=_text(value.get("author")),
        text=_text(value.get("text")),
        at=parse_time(value.get("at")),
        attachments=_attachments(value.get("attachments")),
    )


def event_label(action: str, detail: Mapping[str, Any]) -> str:
    """The label (``event.<label>``) of a history entry: its action, except a closure of a
    customer no channel reached (``closed`` with ``not_reached``: the auto-close of a
    confirmation request nobody received)."""
    if action == "closed" and detail.get("not_reached") is True:
        return "closed_not_reached"
    return action


def _event(value: Mapping[str, Any]) -> Entry | None:
    action = str(value.get("action", ""))
    if not action or action in _SHOWN_AS_MESSAGES or action.startswith("ignored:"):
        return None
    detail = _mapping(value.get("detail"))
    task = action.startswith("task_")
    return Entry(
        kind="system",
        subtype=event_label(action, detail),
        author=_text(value.get("actor")),
        text=None,
        at=parse_time(value.get("at")),
        from_status=_text(value.get("from_status")),
        to_status=_text(value.get("to_status")),
        task_kind=_text(detail.get("kind")) if task else None,
        task_outcome=_text(detail.get("outcome")) if task else None,
    )


def conversation_of(case: Mapping[str, Any]) -> tuple[Entry, ...]:
    """The complaint itself first, then messages, notes and history entries by time."""
    opening = Entry(
        kind="customer",
        subtype="description",
        author="customer",
        text=_text(case.get("description")),
        at=parse_time(case.get("received_at")),
        attachments=_attachments(case.get("attachments")),
    )
    messages = [_message(m) for m in _list(case.get("conversation"))]
    events = [e for e in (_event(a) for a in _list(case.get("actions"))) if e is not None]
    later = sorted([*messages, *events], key=lambda e: e.at or _EARLIEST)
    return (opening, *later)


def _sla_of(case: Mapping[str, Any]) -> tuple[SlaBadge, tuple[ClockView, ...]]:
    sla = _mapping(case.get("sla"))
    clocks = tuple(_clock(c) for c in _list(sla.get("clocks")))
    warned = max((_int(c.get("warned_percent")) for c in _list(sla.get("clocks"))), default=0)
    seconds = sla.get("time_left_s")
    badge = sla_badge(
        state=_text(sla.get("state")),
        warned_percent=warned or None,
        seconds_left=seconds if isinstance(seconds, int) else None,
    )
    return badge, clocks


def _last_customer_message_id(case: Mapping[str, Any]) -> str | None:
    ids = [
        _text(m.get("message_id"))
        for m in _list(case.get("conversation"))
        if m.get("kind") == "customer_message"
    ]
    return next((i for i in reversed(ids) if i), None)


def case_view(case: Mapping[str, Any]) -> CaseView:
    customer = _mapping(case.get("customer"))
    duplicates = _mapping(case.get("duplicates"))
    badge, clocks = _sla_of(case)
    version = case.get("version")
    confidence = case.get("confidence")
    return CaseView(
        complaint_id=str(case.get("complaint_id", "")),
        reference=str(case.get("reference", "")),
        version=version if isinstance(version, int) and not isinstance(version, bool) else None,
        subject=_text(case.get("subject")),
        status=_text(case.get("status")),
        priority=_text(case.get("priority")),
        category=_text(case.get("category")),
        subcategory=_text(case.get("subcategory")),
        confidence=float(confidence) if isinstance(confidence, int | float) else None,
        emotion=_text(case.get("emotion")),
        channel=_text(case.get("channel")),
        team=_text(case.get("team")),
        assignee=_text(case.get("assignee")),
        owner=_text(case.get("owner")),
        escalation_level=_int(case.get("escalation_level")),
        tier=_text(customer.get("tier")),
        language=_text(customer.get("language")),
        masked_phone=_text(customer.get("masked_phone")),
        masked_email=_text(customer.get("masked_email")),
        order_ref=_text(case.get("order_ref")),
        received_at=parse_time(case.get("received_at")),
        rules_fired=tuple(
            (str(r.get("rule", "")), str(r.get("detail", "")))
            for r in _list(case.get("rules_fired"))
        ),
        sla=badge,
        clocks=clocks,
        duplicate_of=_link(duplicates.get("duplicate_of")),
        copies=tuple(c for c in (_link(v) for v in _list(duplicates.get("copies"))) if c),
        repeat_count=_int(duplicates.get("repeat_count")),
        earlier=tuple(c for c in (_link(v) for v in _list(case.get("earlier_complaints"))) if c),
        conversation=conversation_of(case),
        tasks=task_views(case.get("tasks")),
        resolution={
            name: _text(case.get(name))
            for name in ("solution_summary", "solution_type", "root_cause", "preventive_measure")
        },
        last_customer_message_id=_last_customer_message_id(case),
        erased=case.get("texts_erased_at") is not None,
    )
