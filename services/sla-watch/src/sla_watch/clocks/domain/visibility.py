"""Whose clocks a caller sees (§10, per object): routing's rule for cases, by team, since
sla-watch knows a complaint's team and not its assignee. Managers, administrators and
services see every complaint's clocks; agents and leads those of their own team (the
token's ``team`` claim); a token without the claim sees none (failing closed).

A complaint whose clocks the caller may not see is answered exactly like one without
clocks (404), never 403: the answer must not tell that it exists.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

SEE_ALL_ROLES: Final = frozenset({"manager", "admin", "service"})
TEAM_ROLES: Final = frozenset({"agent", "lead"})


@dataclass(frozen=True, slots=True)
class ClocksSeen:
    """Every complaint's clocks, or those of ``team`` (None and not everything: none)."""

    everything: bool
    team: str | None = None

    def admits(self, complaint_team: str | None) -> bool:
        if self.everything:
            return True
        return self.team is not None and complaint_team == self.team


def clocks_seen(*, roles: Collection[str], team: str | None) -> ClocksSeen:
    """Any one role that grants sight is enough (a lead is often an agent as well)."""
    if SEE_ALL_ROLES.intersection(roles):
        return ClocksSeen(everything=True)
    return ClocksSeen(everything=False, team=team if TEAM_ROLES.intersection(roles) else None)
