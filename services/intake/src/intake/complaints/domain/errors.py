"""Why intake refuses a complaint request (mapped to problem documents by the runtime)."""

from __future__ import annotations

from complaint_runtime.errors import Conflict, InvalidInput, NotFound


class ComplaintNotFound(NotFound):
    """Unknown, or not the caller's to see: both get the same answer."""

    default_title = "Complaint not found"


class IdempotencyKeyReused(InvalidInput):
    default_title = "Idempotency-Key reused with a different body"
    default_kind = "idempotency-key-reused"


class ComplaintWithdrawn(Conflict):
    """The customer withdrew the complaint: it takes no more messages."""

    default_title = "Complaint withdrawn"
    default_kind = "complaint-withdrawn"


class ComplaintClosed(Conflict):
    """The complaint is closed (confirmed, auto-closed, closed as a duplicate): there is
    nothing left to withdraw."""

    default_title = "Complaint closed"
    default_kind = "complaint-closed"


class ComplaintAnonymised(Conflict):
    """The complaint's personal data was erased: nothing of the customer comes back to it
    (no message, no withdrawal reason, no corrected contact)."""

    default_title = "Complaint anonymised"
    default_kind = "complaint-anonymised"
