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
