"""The escalation ladder (§6): which level a breach calls for, and what a lead's or
manager's request to escalate by hand does (§3). Pure rules, no I/O.

Levels: 0 agent, 1 team lead, 2 manager, 3 senior escalation group. A first-response or
next-response breach calls the team lead, a resolution breach the manager; a breach of a P1
complaint, or the complaint's second breach (of any clocks), goes straight to the senior
group. The level only rises: a breach that calls for a level at or below the current one
changes nothing (and sends nothing).

By hand, a lead or manager asks for a level (routing refuses a request that is not above the
level its case shows). sla-watch's level can be ahead of routing's picture (a breach routing
has not applied yet): a request at or below sla-watch's level then changes nothing either,
since the level never goes down by a request and an escalation must change the level.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

Level = Literal[0, 1, 2, 3]
BreachTrigger = Literal[
    "first_response_breach",
    "next_response_breach",
    "resolution_breach",
    "p1_breach",
    "repeated_breach",
]
BreachedMetric = Literal["first_response", "next_response", "resolution"]

LEVEL_NAMES: dict[int, str] = {
    0: "agent",
    1: "team lead",
    2: "manager",
    3: "senior escalation group",
}
_BY_METRIC: dict[str, tuple[Level, BreachTrigger]] = {
    "first_response": (1, "first_response_breach"),
    "next_response": (1, "next_response_breach"),
    "resolution": (2, "resolution_breach"),
}
_METRIC_WORDS = {
    "first_response": "first-response",
    "next_response": "next-response",
    "resolution": "resolution",
}


Trigger = BreachTrigger | Literal["manual"]


@dataclass(frozen=True)
class Escalation:
    """A rise of the escalation level, with what caused it and why in words."""

    level: Level
    previous_level: Level
    trigger: Trigger
    reason: str


def level_for_breach(
    *, metric: BreachedMetric, priority: str, breach_count: int
) -> tuple[Level, BreachTrigger]:
    """The level a breach calls for and its trigger; ``breach_count`` counts the complaint's
    breached clocks, this one included."""
    if metric not in _BY_METRIC:
        raise ValueError(f"unknown metric {metric!r}")
    if priority == "P1":
        return 3, "p1_breach"
    if breach_count >= 2:
        return 3, "repeated_breach"
    return _BY_METRIC[metric]


def escalate_on_breach(
    current: int, *, metric: BreachedMetric, priority: str, breach_count: int
) -> Escalation | None:
    """The escalation a breach causes, or None when the complaint already stands at that
    level or higher."""
    level, trigger = level_for_breach(metric=metric, priority=priority, breach_count=breach_count)
    if level <= current:
        return None
    if current not in (0, 1, 2):
        raise ValueError(f"not an escalation level below the top: {current!r}")
    previous = cast(Level, current)
    what = f"{priority} {_METRIC_WORDS[metric]} deadline passed"
    if trigger == "repeated_breach":
        what = f"{what}, breach number {breach_count} of this complaint"
    elif trigger == "p1_breach":
        what = f"{what} on an urgent (P1) complaint"
    return Escalation(
        level=level,
        previous_level=previous,
        trigger=trigger,
        reason=f"{what}: escalated to the {LEVEL_NAMES[level]} (level {level})",
    )


def escalate_by_hand(current: int, *, requested: int, reason: str) -> Escalation | None:
    """The escalation a request by hand causes, or None when the complaint already stands
    at the requested level or higher. The reason is the requester's own words."""
    if requested not in (1, 2, 3):
        raise ValueError(f"not a level to escalate to: {requested!r}")
    if current not in (0, 1, 2, 3):
        raise ValueError(f"not an escalation level: {current!r}")
    if not reason.strip():
        raise ValueError("an escalation by hand needs a reason")
    if requested <= current:
        return None
    return Escalation(
        level=cast(Level, requested),
        previous_level=cast(Level, current),
        trigger="manual",
        reason=reason,
    )
