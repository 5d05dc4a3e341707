"""What a customer's answer means for the complaint (§3): closed, or back to its owner."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CSAT_MIN = 1
CSAT_MAX = 5

AnswerReopenReason = Literal["not_solved", "low_csat"]
OutcomeName = Literal["confirmed", "reopened"]


@dataclass(frozen=True)
class Confirmed:
    """The customer confirmed the solution and rated it above the reopen limit."""

    name: Literal["confirmed"] = "confirmed"


@dataclass(frozen=True)
class Reopened:
    reason: AnswerReopenReason
    name: Literal["reopened"] = "reopened"


Outcome = Confirmed | Reopened


def outcome(*, solved: bool, csat: int, reopen_max: int) -> Outcome:
    """ "Not solved" reopens whatever the rating; a solved complaint rated at or below
    ``reopen_max`` reopens too, because a confirmation that unhappy is not a closure."""
    if not CSAT_MIN <= csat <= CSAT_MAX:
        raise ValueError(f"csat must be {CSAT_MIN}..{CSAT_MAX}, got {csat}")
    if not solved:
        return Reopened("not_solved")
    if csat <= reopen_max:
        return Reopened("low_csat")
    return Confirmed()
