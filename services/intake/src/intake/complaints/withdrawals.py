"""The customer withdraws their complaint (§3): intake closes it in its own view at once
(status ``closed``, close reason ``withdrawn``), so the customer sees it closed and further
messages are refused, and announces ``complaint.withdrawn`` through the outbox for routing
to close the case. The row's change, its history entry and its event commit in one
transaction; the rules are :mod:`intake.complaints.domain.withdrawals`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from complaint_contracts.events import ComplaintWithdrawn
from complaint_runtime.database import Database

from intake.access.domain.callers import Viewer
from intake.complaints.domain.errors import ComplaintAnonymised, ComplaintNotFound
from intake.complaints.domain.withdrawals import (
    CUSTOMER,
    WITHDRAWN,
    check_withdrawable,
    masked_reason,
)
from intake.complaints.service import record_step
from intake.db import Complaint, ComplaintRepository
from intake.erasure.domain.anonymisation import is_erased


@dataclass(frozen=True)
class Withdrawal:
    """The withdrawn complaint, as the answer shows it."""

    complaint_id: str
    reference: str
    status: str
    close_reason: str
    withdrawn_at: datetime
    reason: str | None


async def withdraw_complaint(
    *, database: Database, viewer: Viewer, complaint_id: str, reason: str | None
) -> Withdrawal:
    """Withdraw a complaint the caller may see. Refusals: ``ComplaintNotFound``,
    ``ComplaintWithdrawn`` (already withdrawn: a retry), ``ComplaintClosed``."""
    now = datetime.now(UTC)
    async with database.unit_of_work() as uow:
        # Locked: of two concurrent withdrawals the second sees the first and is refused.
        complaint = await ComplaintRepository(uow.session).get_for_update(complaint_id)
        if complaint is None or not viewer.may_view(complaint):
            raise ComplaintNotFound()
        if is_erased(complaint.customer_ref):
            raise ComplaintAnonymised("The complaint's personal data was erased.")
        check_withdrawable(status=complaint.status, close_reason=complaint.close_reason)
        masked = masked_reason(reason)
        event = ComplaintWithdrawn(
            complaint_id=complaint.id,
            customer_ref=complaint.customer_ref,
            reason=masked,
            withdrawn_at=now,
            actor=CUSTOMER,
        )
        record_step(uow, event, complaint_id=complaint.id, now=now, data={"reason": masked})
        _close_as_withdrawn(complaint, now=now)
    return Withdrawal(complaint.id, complaint.reference, "closed", WITHDRAWN, now, masked)


def _close_as_withdrawn(complaint: Complaint, *, now: datetime) -> None:
    """Closed in intake's view now, before routing hears of it: the customer sees their
    decision at once. Routing's ``complaint.closed`` later sets the closure's time it
    recorded; the projection keeps a withdrawn complaint closed meanwhile."""
    complaint.status = "closed"
    complaint.status_at = now
    complaint.closed_at = now
    complaint.close_reason = WITHDRAWN
    complaint.updated_at = now
