"""The configured numbers of the NPS programme (from FeedbackSettings), as the rounds and
the page read them."""

from __future__ import annotations

from dataclasses import dataclass

from feedback.nps.domain.periods import Schedule


@dataclass(frozen=True)
class NpsSettings:
    schedule: Schedule
    zone: str
    """The organisation's IANA zone: calendar months start at its midnight."""
    sample_percent: float
    seed: str
    answer_s: float
    """How long an NPS link takes an answer."""
    round_delay_s: float
    """How long after a period's end its round starts: closures consumed a little late
    (a busy consumer, a broker outage) still count in their period."""
    batch_size: int = 500
