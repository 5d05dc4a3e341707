"""Why lost-link recovery refuses a request (mapped to problem documents by the runtime)."""

from __future__ import annotations

from complaint_runtime.errors import NotFound


class TrackingCodeGone(NotFound):
    """Notify asked for a code that is unknown, not this complaint's, already read, used,
    spent or expired: all the same answer, and nothing to send."""

    default_title = "Tracking code not available"
    default_kind = "tracking-code-gone"
