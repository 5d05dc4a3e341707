"""The configured numbers of the closed loop (from FeedbackSettings): how long a customer has
to answer, when they are reminded, what rating reopens, where and when a request goes
without the complaint's details."""

from __future__ import annotations

from dataclasses import dataclass

from complaint_contracts.vocabulary import PreferredChannel


@dataclass(frozen=True)
class ClosedLoopSettings:
    auto_close_s: float
    reopen_csat_max: int
    default_channel: PreferredChannel
    contact_wait_s: float = 300.0
    reminder_after_s: float = 24 * 3600.0
