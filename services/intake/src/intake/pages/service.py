"""The tracking page's use cases: each one is a use case of :mod:`intake.complaints` or
:mod:`intake.projection` as the customer holding the link calls it (a viewer with the
link's token, never a front end's key), plus what the page shows around it. The rules
stay where they are: the reopen window in ``complaints.domain.follow_ups``, withdrawal in
``complaints.withdrawals``, visibility in ``projection.domain.visibility``, promised times
in ``projection.domain.promises``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from complaint_runtime.database import Database

from intake.access.domain.callers import Viewer
from intake.complaints import links, messages, withdrawals
from intake.complaints.domain.errors import ComplaintWithdrawn
from intake.complaints.domain.follow_ups import MessageRoute, route_message
from intake.complaints.domain.secret_keys import Secrets
from intake.complaints.domain.submissions import NewMessage
from intake.complaints.reference_blocks import ReferenceAllocator
from intake.pages.domain.status import (
    CustomerStatus,
    NextStep,
    PromiseRow,
    customer_status,
    next_step,
    promise_rows,
    settle_first_response,
)
from intake.pages.domain.timeline import Entry, Step, latest_from_us, open_question, timeline
from intake.projection import service as projection

__all__ = [
    "NewLink",
    "TrackingPage",
    "json_view",
    "open_link",
    "rotate_link",
    "send_message",
    "tracking_page",
    "withdraw",
]

NewLink = links.NewLink


@dataclass(frozen=True)
class TrackingPage:
    """Everything the page shows of one complaint (times in UTC; the page formats them
    in the customer's zone: ``timezone``, else the organisation's)."""

    complaint_id: str
    reference: str
    subject: str
    language: str
    timezone: str | None
    status: CustomerStatus
    received_at: datetime
    entries: list[Entry]
    latest: Entry | None  # staff's last words, unanswered yet
    promises: list[PromiseRow]
    next: NextStep
    message_route: MessageRoute | None  # None: no message is taken (withdrawn)
    may_withdraw: bool
    related: projection.LinkedComplaint | None
    follow_ups: tuple[projection.LinkedComplaint, ...]


async def open_link(*, database: Database, token: str) -> str | None:
    """The complaint the link opens, or None (unknown, rotated, malformed)."""
    return await links.complaint_of_token(database=database, token=token)


async def json_view(*, database: Database, token: str, id_: str) -> projection.ComplaintView:
    """The complaint's view as the customer holding ``token`` sees it (the JSON API's)."""
    return await projection.view_complaint(
        database=database, viewer=Viewer(None, token), complaint_id=id_
    )


async def tracking_page(
    *,
    database: Database,
    token: str,
    complaint_id: str,
    reopen_window: timedelta,
    now: datetime | None = None,
) -> TrackingPage:
    """The page of a complaint the token opens; ``ComplaintNotFound`` otherwise."""
    now = now or datetime.now(UTC)
    async with database.sessions() as session:  # one session for the view and the texts
        view = await projection.view_in(
            session, viewer=Viewer(None, token), complaint_id=complaint_id
        )
        texts = await messages.customer_messages_in(session, complaint_id=view.complaint.id)
    complaint = view.complaint
    entries = timeline((Step(s.type, s.time, s.data) for s in view.history), texts)
    status = customer_status(complaint.status, complaint.close_reason)
    closed_at = complaint.closed_at or complaint.status_at
    answered = [e.time for e in entries if e.key.startswith("first_response")]
    promises = settle_first_response(view.promises, answered_at=answered[0] if answered else None)
    return TrackingPage(
        complaint_id=complaint.id,
        reference=complaint.reference,
        subject=complaint.subject,
        language=complaint.language,
        timezone=complaint.timezone,
        status=status,
        received_at=complaint.received_at,
        entries=entries,
        latest=latest_from_us(entries),
        promises=promise_rows(promises, status=status, now=now),
        next=next_step(
            status=status,
            promises=promises,
            closed_at=closed_at,
            reopen_window=reopen_window,
            now=now,
            question=open_question(entries),
        ),
        message_route=_message_route(
            complaint.status, complaint.close_reason, closed_at, now, reopen_window
        ),
        may_withdraw=complaint.status != "closed",
        related=view.related,
        follow_ups=view.follow_ups,
    )


def _message_route(
    status: str,
    close_reason: str | None,
    closed_at: datetime | None,
    now: datetime,
    window: timedelta,
) -> MessageRoute | None:
    """Where a message written now would go (the form says so before it is sent)."""
    try:
        return route_message(
            status=status,
            close_reason=close_reason,
            closed_at=closed_at,
            received_at=now,
            window=window,
        )
    except ComplaintWithdrawn:
        return None


async def send_message(
    *,
    database: Database,
    secrets_: Secrets,
    references: ReferenceAllocator,
    token: str,
    complaint_id: str,
    text: str,
    submission_key: str,
    public_base_url: str,
    reopen_window: timedelta,
) -> messages.AcceptedMessage | messages.FollowUpOpened:
    """The customer's message through the messages use case (once per submission key)."""
    return await messages.add_customer_message(
        database=database,
        secrets_=secrets_,
        references=references,
        viewer=Viewer(None, token),
        complaint_id=complaint_id,
        message=NewMessage(text=text),
        public_base_url=public_base_url,
        reopen_window=reopen_window,
        submission_key=submission_key,
    )


async def withdraw(
    *, database: Database, token: str, complaint_id: str, reason: str | None
) -> withdrawals.Withdrawal:
    """The customer's withdrawal through the withdrawal use case."""
    return await withdrawals.withdraw_complaint(
        database=database, viewer=Viewer(None, token), complaint_id=complaint_id, reason=reason
    )


async def rotate_link(
    *,
    database: Database,
    secrets_: Secrets,
    token: str,
    complaint_id: str,
    submission_key: str,
    public_base_url: str,
) -> NewLink:
    """A new link for the complaint; the one in ``token`` stops working."""
    return await links.rotate_link(
        database=database,
        secrets_=secrets_,
        viewer=Viewer(None, token),
        complaint_id=complaint_id,
        submission_key=submission_key,
        public_base_url=public_base_url,
    )
