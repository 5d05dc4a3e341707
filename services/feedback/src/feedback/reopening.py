"""A customer message on a closed complaint reopens it (§3): ``complaint.reopened`` with
reason ``customer_message`` and the message's id, which routing applies like any reopen
(same owner, priority +1 but never into P1, a review task for the team's lead).

Both use cases run in the consumer's unit of work on the complaint's locked closure row
(:class:`feedback.db.Closures`), and apply :func:`feedback.domain.reopening.message_reopens`
whichever event comes second: a closure records itself and reopens if the latest message
came at or after it; a message records itself and reopens the closure it came after. The
row remembers the reopen, so a closure is reopened once, also under redelivery.
"""

from __future__ import annotations

from datetime import UTC, datetime

from complaint_contracts import topics
from complaint_contracts.events import ComplaintClosed, ComplaintReopened, CustomerMessageReceived
from complaint_runtime.database import UnitOfWork

from feedback import metrics
from feedback.db import Closure, Closures
from feedback.domain.reopening import message_reopens

SOURCE = "feedback"


async def record_closure(
    *, uow: UnitOfWork, closed: ComplaintClosed, now: datetime | None = None
) -> bool:
    """Keep the complaint's latest closure (a new closure after a reopen starts afresh);
    reopen it at once when the customer's latest message came at or after it. Whether it
    was reopened."""
    now = now or datetime.now(UTC)
    closure = await Closures(uow.session).locked(closed.complaint_id, now=now)
    closure.closed_at = closed.closed_at
    closure.close_reason = closed.reason
    closure.reopened_at = closure.reopen_message_id = None
    closure.updated_at = now
    return _reopen_if_due(uow, closure, now=now)


async def record_customer_message(
    *, uow: UnitOfWork, message: CustomerMessageReceived, now: datetime | None = None
) -> bool:
    """Keep the customer's latest message; reopen the complaint when it came at or after a
    closure not reopened yet. Whether it reopened it."""
    now = now or datetime.now(UTC)
    closure = await Closures(uow.session).locked(message.complaint_id, now=now)
    if closure.last_message_at is None or message.received_at >= closure.last_message_at:
        closure.last_message_id = message.message_id
        closure.last_message_at = message.received_at
        closure.updated_at = now
    return _reopen_if_due(uow, closure, now=now)


def _reopen_if_due(uow: UnitOfWork, closure: Closure, *, now: datetime) -> bool:
    due = message_reopens(
        close_reason=closure.close_reason,
        closed_at=closure.closed_at,
        already_reopened=closure.reopened_at is not None,
        message_at=closure.last_message_at,
    )
    if not due:
        return False
    closure.reopened_at = now
    closure.reopen_message_id = closure.last_message_id
    uow.add_event(
        ComplaintReopened(
            complaint_id=closure.complaint_id,
            reason="customer_message",
            message_id=closure.last_message_id,
            reopened_at=now,
            actor="customer",
        ),
        topic=topics.FEEDBACK.name,
        source=SOURCE,
        subject=closure.complaint_id,
        time=now,
    )
    metrics.MESSAGE_REOPENS.inc()
    return True
