"""A customer message on a closed complaint (§3): within the reopen window it reopens the
complaint, after it a new complaint linked to the old one is opened instead.

Intake owns the window (``REOPEN_WINDOW_DAYS``, 30 days by default) because it is the one
service that holds the message before anything else sees it and must answer the customer
there and then: "your complaint is open again" or "here is your new complaint". Within the
window the message goes out as ``complaint.customer_message_received`` like any other, and
feedback turns a message on a complaint it knows closed into ``complaint.reopened`` (reason
``customer_message``); after the window the old complaint never hears of the message, so
no other service needs the window.

Decisions:

- The window is elapsed time from the closure routing recorded (``complaint.closed``'s
  ``closed_at``) to the moment intake receives the message, not calendar days in a time
  zone: 30 days are 720 hours.
- **The boundary belongs to the window**: a message exactly 30 days after the closure
  still reopens it ("within 30 days" includes the 30th day's last instant); one a
  microsecond later opens a new complaint.
- A withdrawn complaint is refused (409 ``complaint-withdrawn``): the customer ended it
  themselves, and a message cannot undo that or be lost on it; they post a new complaint.
- Any other closure (confirmed, auto-closed, closed with its original as a duplicate)
  reopens within the window.
- A complaint that is not closed takes the message as before (it resumes one awaiting the
  customer).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final, Literal

from intake.complaints.domain.errors import ComplaintWithdrawn

DEFAULT_REOPEN_WINDOW: Final = timedelta(days=30)
MAX_SUBJECT: Final = 200  # the bound of a complaint's subject (the API's and the column's)
FOLLOW_UP_PREFIX: Final[dict[str, str]] = {"zh-CN": "回复：", "en": "Re: "}

MessageRoute = Literal["add", "reopen", "follow_up"]
"""add: the complaint is open and takes the message; reopen: it is closed and the message
reopens it; follow_up: it was closed too long ago, a new complaint is opened."""


def route_message(
    *,
    status: str,
    close_reason: str | None,
    closed_at: datetime | None,
    received_at: datetime,
    window: timedelta = DEFAULT_REOPEN_WINDOW,
) -> MessageRoute:
    """Where a customer message received at ``received_at`` goes (see the module's
    decisions); raises :class:`ComplaintWithdrawn` for a withdrawn complaint. A closed
    complaint without a known closure time is treated as closed just now."""
    if status != "closed":
        return "add"
    if close_reason == "withdrawn":
        raise ComplaintWithdrawn(
            "This complaint was withdrawn; it takes no more messages. Please post a new complaint."
        )
    if closed_at is None or received_at - closed_at <= window:
        return "reopen"
    return "follow_up"


def follow_up_subject(subject: str, *, language: str) -> str:
    """The new complaint's subject: the old one's, marked as a follow-up in the customer's
    language ("Re: …" / "回复：…", not doubled), cut to the subject's bound."""
    prefix = FOLLOW_UP_PREFIX.get(language, FOLLOW_UP_PREFIX["en"])
    marked = subject if subject.startswith(prefix) else f"{prefix}{subject}"
    return marked[:MAX_SUBJECT]
