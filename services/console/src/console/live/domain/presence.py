"""Who is writing on a case right now: a user typing in a case page's composer is
"present" for a few seconds after each keystroke their page reports, so the case's other
viewers are warned before two people answer the customer at once. Kept in the console's
database (every replica sees the same), never in a process's memory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

Activity = Literal["reply", "ask", "note"]
ACTIVITIES: Final[tuple[Activity, ...]] = ("reply", "ask", "note")
MAX_NAME: Final = 100


@dataclass(frozen=True, slots=True)
class Writer:
    """Someone else writing on the case (``activity``: the composer's tab)."""

    user_id: str
    display_name: str
    activity: Activity


def activity_of(value: str) -> Activity:
    """The composer tab a page reports (anything else counts as a reply)."""
    for activity in ACTIVITIES:
        if value == activity:
            return activity
    return "reply"


def expiry(now: datetime, *, ttl_s: int) -> datetime:
    return now + timedelta(seconds=ttl_s)


def display_name_of(subject: str) -> str:
    """What the others read: the user id (the console knows no other name of a user)."""
    return subject[:MAX_NAME]
