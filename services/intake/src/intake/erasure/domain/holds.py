"""Legal holds: a complaint under a hold is skipped by erasure and by retention until the
hold is released (section 10). Placing and releasing are recorded with who and when; the
reason is the admin's own text, kept with contacts masked like every free text."""

from __future__ import annotations

from typing import Final

from complaint_contracts.privacy import redact_contacts
from complaint_runtime.errors import field_error

from intake.erasure.domain.errors import InvalidErasureSubject

MAX_REASON: Final = 500


class InvalidHoldReason(InvalidErasureSubject):
    default_title = "Invalid legal hold"


def hold_reason(reason: str) -> str:
    """The reason as kept: trimmed, 1 to 500 characters, contacts masked."""
    text = reason.strip()
    if not text or len(text) > MAX_REASON:
        raise InvalidHoldReason(
            "A legal hold needs a reason of 1 to 500 characters.",
            errors=[field_error("reason", "1 to 500 characters")],
        )
    return redact_contacts(text)
