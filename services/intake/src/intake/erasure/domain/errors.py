"""Why an erasure or legal-hold request is refused (mapped to problem documents by the
runtime)."""

from __future__ import annotations

from complaint_runtime.errors import Forbidden, InvalidInput, NotFound


class ErasureNotFound(NotFound):
    """Unknown, or not the caller's to see: both get the same answer."""

    default_title = "Erasure not found"


class NoLegalHold(NotFound):
    """The complaint has no active legal hold (nothing to release or show)."""

    default_title = "No legal hold"
    default_kind = "no-legal-hold"


class ScopeMissing(Forbidden):
    """A front end's key without the ``erasure`` scope."""

    default_title = "API key lacks the erasure scope"
    default_kind = "scope-missing"


class InvalidErasureSubject(InvalidInput):
    """The customer is not named exactly once, or by a malformed value."""

    default_title = "Invalid erasure request"
