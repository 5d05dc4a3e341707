"""A customer message on a closed complaint reopens it (§3), once per closure.

Intake lets a message reach a closed complaint only within the reopen window (after it,
the message opens a new complaint and the old one never hears of it), so feedback needs no
window of its own: a message about a complaint it knows closed reopens it, if the message
came at or after the closure (one written before, while the complaint was still open, was
answered as part of it), the closure is not a withdrawal (the customer's own decision;
intake refuses messages on it), and this closure has not been reopened already (a second
message after the reopen is simply a message on an open complaint).

The closure (routing topic) and the message (intake topic) are not ordered with each
other, so the rule is applied whichever of the two comes second: the latest message is
kept with the closure.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

REOPENABLE_CLOSURES: Final = frozenset({"confirmed", "auto_closed", "duplicate"})


def message_reopens(
    *,
    close_reason: str | None,
    closed_at: datetime | None,
    already_reopened: bool,
    message_at: datetime | None,
) -> bool:
    """Whether a customer message received at ``message_at`` reopens the closure."""
    if closed_at is None or message_at is None or already_reopened:
        return False
    return close_reason in REOPENABLE_CLOSURES and message_at >= closed_at
