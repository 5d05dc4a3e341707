"""What a clock is matched on and what it gets: a complaint's facts, and a clock's terms
(target, policy, calendar) taken from the first policy matching them. Pure data."""

from __future__ import annotations

from dataclasses import dataclass

from complaint_contracts.vocabulary import Priority

from sla_watch.calendars.domain.calendar import BusinessCalendar


@dataclass(frozen=True)
class ComplaintFacts:
    """What policies match on (§6: priority, optionally category, customer tier, channel)."""

    priority: Priority
    category: str | None = None
    tier: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class ClockTerms:
    """What a new (or recomputed) clock gets."""

    target_seconds: int
    policy_id: str
    calendar: BusinessCalendar


class UnknownCalendarError(LookupError):
    """A clock names a calendar that no longer exists."""
