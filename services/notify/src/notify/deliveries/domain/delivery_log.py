"""The delivery log's vocabulary: the statuses a delivery goes through, and how much of the
log one answer holds.

A delivery is recorded ``pending`` by the consumer, claimed ``preparing`` by the delivery
loop (contacts looked up, message rendered: nothing sent yet), moved to ``sending`` right
before its SMTP session, and finished as ``sent``, ``logged``, ``failed``, ``skipped`` or
``uncertain`` (the outcome is unknown: never resent). A retryable failure puts it back to
``pending`` with a later ``next_attempt_at``.
"""

from __future__ import annotations

from typing import Literal

Status = Literal[
    "pending", "preparing", "sending", "sent", "logged", "failed", "skipped", "uncertain"
]
STATUSES: tuple[Status, ...] = (
    "pending",
    "preparing",
    "sending",
    "sent",
    "logged",
    "failed",
    "skipped",
    "uncertain",
)
# The most deliveries one listing of a complaint returns.
MAX_LIST = 500
