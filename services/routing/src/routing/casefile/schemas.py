"""Answers of the case file and case list API. The case file keeps every field of the case
answer the commands give (:class:`routing.cases.schemas.CaseOut`) and adds the rest."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from routing.casefile.db import CaseFile, CaseMessage
from routing.casefile.domain.sla import ClockProjection, SlaState, seconds_until
from routing.casefile.notes import MAX_NOTE, NOTE, NoteView
from routing.casefile.service import CaseFileView, CasePage, CaseRow
from routing.cases.schemas import ActionOut, CaseOut
from routing.db import Case
from routing.duplicates.service import CaseLink
from routing.tasks.schemas import TaskOut

_SECONDS_LEFT = (
    "Wall-clock seconds from now until due_at (negative: overdue by that much); only for a "
    "running clock"
)


class CustomerOut(BaseModel):
    customer_ref: str = Field(description="Keyed hash identifying the customer across channels")
    external_ref: str | None = Field(description="The front end's customer id, if given")
    masked_phone: str | None = Field(description="Masked phone number, e.g. 138****5678")
    masked_email: str | None = Field(description="Masked e-mail address, e.g. z***@example.com")
    tier: str
    language: str
    preferred_channel: str | None = Field(description="Where the customer wants to be contacted")


class AttachmentOut(BaseModel):
    url: str | None = Field(description="Where the file is; null once erased")
    media_type: str
    size: int = Field(description="Size in bytes")


class ClockOut(BaseModel):
    clock_id: str
    metric: str = Field(description="first_response, next_response or resolution")
    state: str = Field(description="running, paused or stopped")
    target_seconds: int | None = Field(description="The target in business seconds")
    started_at: datetime | None
    due_at: datetime | None = Field(description="When the target is reached (sla-watch)")
    time_left_s: int | None = Field(description=_SECONDS_LEFT)
    warned_percent: int | None = Field(description="The highest warning threshold reached, %")
    breached: bool
    outcome: str | None = Field(description="met, breached or cancelled, once stopped")
    stopped_at: datetime | None
    message_id: str | None = Field(description="next_response: the message the clock answers")

    @classmethod
    def of(cls, clock: ClockProjection, now: datetime) -> ClockOut:
        return cls(
            clock_id=clock.clock_id,
            metric=clock.metric,
            state=clock.state,
            target_seconds=clock.target_seconds,
            started_at=clock.started_at,
            due_at=clock.due_at,
            time_left_s=clock.seconds_left(now),
            warned_percent=clock.warned_percent,
            breached=clock.breached,
            outcome=clock.outcome,
            stopped_at=clock.stopped_at,
            message_id=clock.message_id,
        )


class SlaOut(BaseModel):
    state: SlaState | None = Field(
        description=(
            "breached (some clock breached), at_risk (a running clock passed a warning "
            "threshold), on_track, paused, stopped; null: no clock"
        )
    )
    due_at: datetime | None = Field(description="The earliest due time of a running clock")
    time_left_s: int | None = Field(description=_SECONDS_LEFT)
    at_risk: bool
    breached: bool
    clocks: list[ClockOut] = Field(description="Every clock of the case, in start order")


class CaseLinkOut(BaseModel):
    complaint_id: str
    reference: str
    status: str
    category: str
    received_at: datetime

    @classmethod
    def of(cls, link: CaseLink) -> CaseLinkOut:
        return cls.model_validate(link, from_attributes=True)


class DuplicatesOut(BaseModel):
    duplicate_of: CaseLinkOut | None = Field(description="The original this case is a copy of")
    copies: list[CaseLinkOut] = Field(description="Copies linked to this case, oldest first")
    repeat_count: int = Field(
        description="Earlier complaints of the customer in the case's category (30 days)"
    )


class MessageOut(BaseModel):
    kind: str = Field(
        description=(
            "customer_message, first_response, reply or question (to the customer), or note "
            "(internal: staff only, never sent)"
        )
    )
    internal: bool = Field(description="An internal note: staff only, never sent to the customer")
    author: str = Field(description="'customer' or the staff member's user id")
    channel: str | None
    text: str | None = Field(description="Contacts masked; null: none given, or erased")
    attachments: list[AttachmentOut]
    message_id: str | None = Field(description="The customer message's id")
    in_reply_to: str | None = Field(description="A reply: the customer message it answers")
    at: datetime


class CaseFileOut(CaseOut):
    """The whole case file. Texts are null for a case stored before routing kept them and
    after an erasure (``texts_erased_at``)."""

    channel: str
    customer: CustomerOut
    subject: str | None
    description: str | None
    order_ref: str | None
    occurred_at: datetime | None = Field(description="When it happened, as the customer said")
    attachments: list[AttachmentOut]
    metadata: dict[str, str] = Field(description="The front end's own fields")
    related_complaint_id: str | None = Field(
        description=(
            "An earlier complaint this one follows up: its customer wrote on it after the "
            "reopen window (30 days by default), which opened this complaint"
        )
    )
    related_complaint: CaseLinkOut | None = Field(
        description="That earlier complaint, when routing has its case"
    )
    follow_ups: list[CaseLinkOut] = Field(
        description=(
            "The complaints that follow this one up (opened when the customer wrote after "
            "the reopen window), oldest first (20 at most)"
        )
    )
    texts_erased_at: datetime | None = Field(description="When an erasure blanked the texts")
    last_activity_at: datetime = Field(description="The latest change or message")
    sla: SlaOut
    duplicates: DuplicatesOut
    conversation: list[MessageOut] = Field(
        description=(
            "Customer messages, staff answers and questions, and internal notes (flagged "
            "`internal`), oldest first (the latest 500)"
        )
    )
    earlier_complaints: list[CaseLinkOut] = Field(
        description="The customer's earlier complaints on any channel, newest first (20 at most)"
    )
    tasks: list[TaskOut] = Field(
        description="The case's tasks (reviews after a reopen), oldest first, open and done"
    )

    @classmethod
    def of_file(cls, view: CaseFileView) -> CaseFileOut:
        case = view.case
        file = view.file or CaseFile()  # a case older than the case file: every text absent
        base = {name: getattr(case, name) for name in CaseOut.model_fields if name != "actions"}
        return cls(
            **base,
            actions=[ActionOut.model_validate(a, from_attributes=True) for a in view.actions],
            channel=case.channel,
            customer=_customer(case, file),
            subject=file.subject,
            description=file.description,
            order_ref=file.order_ref,
            occurred_at=file.occurred_at,
            attachments=_attachments(file.attachments or []),
            metadata=file.custom_metadata or {},
            related_complaint_id=file.related_complaint_id,
            related_complaint=_link(view.related_complaint),
            follow_ups=[CaseLinkOut.of(c) for c in view.follow_ups],
            texts_erased_at=file.erased_at,
            last_activity_at=case.last_activity_at or case.updated_at,
            sla=_sla(view),
            duplicates=DuplicatesOut(
                duplicate_of=_link(view.duplicates.duplicate_of),
                copies=[CaseLinkOut.of(c) for c in view.duplicates.copies],
                repeat_count=view.duplicates.repeat_count,
            ),
            conversation=[_message(m) for m in view.messages],
            earlier_complaints=[CaseLinkOut.of(c) for c in view.earlier_complaints],
            tasks=[TaskOut.of(t) for t in view.tasks],
        )


class CaseRowOut(BaseModel):
    complaint_id: str
    reference: str
    subject: str | None = Field(description="Null for a case stored before routing kept texts")
    channel: str
    tier: str
    priority: str
    status: str
    category: str
    subcategory: str | None
    team: str | None
    assignee: str | None
    escalation_level: int = Field(description="0 agent, 1 team lead, 2 manager, 3 senior group")
    version: int = Field(description="The case's version (send it as `If-Match` with a command)")
    sla_state: SlaState | None = Field(
        description="breached, at_risk, on_track, paused, stopped; null: no clock"
    )
    sla_due_at: datetime | None = Field(description="The earliest due time of a running clock")
    sla_time_left_s: int | None = Field(description=_SECONDS_LEFT)
    sla_warned_percent: int | None = Field(
        description=(
            "The highest warning threshold reached (50, 75, 90 %) on the running, not "
            "breached clock due first: the clock sla_due_at and sla_time_left_s come from. "
            "A warning on another clock (due later, or paused) does not count. Null: no "
            "warning on that clock yet, no running clock, or the clock due first is breached "
            "(sla_state is breached then)"
        )
    )
    last_activity_at: datetime = Field(description="The latest change or message")
    received_at: datetime

    @classmethod
    def of(cls, row: CaseRow) -> CaseRowOut:
        case = row.case
        return cls(
            complaint_id=case.complaint_id,
            reference=case.reference,
            subject=row.subject,
            channel=case.channel,
            tier=case.tier,
            priority=case.priority,
            status=case.status,
            category=case.category,
            subcategory=case.subcategory,
            team=case.team,
            assignee=case.assignee,
            escalation_level=case.escalation_level,
            version=case.version,
            sla_state=case.sla_state,
            sla_due_at=case.sla_due_at,
            sla_time_left_s=row.sla_seconds_left,
            sla_warned_percent=row.sla_warned_percent,
            last_activity_at=case.last_activity_at or case.updated_at,
            received_at=case.received_at,
        )


class CaseListOut(BaseModel):
    items: list[CaseRowOut] = Field(
        description=(
            "By time to breach: the earliest due time of a running clock first, cases "
            "without a running clock last, then received time and id"
        )
    )
    next: str | None = Field(
        description="Opaque cursor of the next page (pass it as `cursor`); null on the last"
    )

    @classmethod
    def of(cls, page: CasePage) -> CaseListOut:
        return cls(items=[CaseRowOut.of(r) for r in page.rows], next=page.next_cursor)


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = Field(
        min_length=1,
        max_length=MAX_NOTE,
        description=(
            "The note, for staff only (never sent); phone numbers and e-mail addresses are masked"
        ),
    )


class NoteOut(BaseModel):
    id: int
    complaint_id: str
    kind: str = Field(description="Always `note`")
    internal: bool = Field(description="Always true: staff only, never sent")
    author: str
    text: str = Field(description="As stored: contacts masked")
    at: datetime
    case_version: int = Field(description="The case's version; a note does not change it")

    @classmethod
    def of(cls, view: NoteView) -> NoteOut:
        return cls(
            id=view.id,
            complaint_id=view.complaint_id,
            kind=NOTE,
            internal=True,
            author=view.author,
            text=view.text,
            at=view.at,
            case_version=view.case_version,
        )


def _customer(case: Case, file: CaseFile) -> CustomerOut:
    return CustomerOut(
        customer_ref=case.customer_ref,
        external_ref=file.customer_external_ref,
        masked_phone=file.customer_masked_phone,
        masked_email=file.customer_masked_email,
        tier=case.tier,
        language=case.language,
        preferred_channel=file.customer_preferred_channel,
    )


def _sla(view: CaseFileView) -> SlaOut:
    return SlaOut(
        state=view.sla.state,
        due_at=view.sla.due_at,
        time_left_s=seconds_until(view.sla.due_at, view.now),
        at_risk=view.sla.at_risk,
        breached=view.sla.breached,
        clocks=[ClockOut.of(c, view.now) for c in view.clocks],
    )


def _message(message: CaseMessage) -> MessageOut:
    return MessageOut(
        kind=message.kind,
        internal=message.kind == NOTE,
        author=message.author,
        channel=message.channel,
        text=message.text,
        attachments=_attachments(message.attachments or []),
        message_id=message.message_id,
        in_reply_to=message.in_reply_to,
        at=message.at,
    )


def _link(link: CaseLink | None) -> CaseLinkOut | None:
    return CaseLinkOut.of(link) if link is not None else None


def _attachments(attachments: list[dict[str, Any]]) -> list[AttachmentOut]:
    return [AttachmentOut.model_validate(a) for a in attachments]
