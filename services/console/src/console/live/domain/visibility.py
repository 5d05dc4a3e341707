"""Who hears of a change: the same rule as routing's case visibility
(``routing.casefile.domain.visibility``): an agent their team's cases and the cases
assigned to them, a lead their team's, managers and administrators every case. A hand-off
is heard by both sides (the team and agent it left, and those it went to), so a case
leaves one queue and appears in another at once."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

from console.live.domain.changes import CaseChange

SEE_ALL_ROLES: Final = frozenset({"manager", "admin"})


@dataclass(frozen=True, slots=True)
class Viewer:
    subject: str
    roles: frozenset[str]
    team: str | None


def sees(viewer: Viewer, change: CaseChange) -> bool:
    roles: Collection[str] = viewer.roles
    if SEE_ALL_ROLES.intersection(roles):
        return True
    in_team = "agent" in roles or "lead" in roles
    if in_team and viewer.team is not None and viewer.team in (change.team, change.previous_team):
        return True
    return "agent" in roles and viewer.subject in (change.assignee, change.previous_assignee)


def concerns(change: CaseChange, complaint_id: str | None) -> bool:
    """A stream opened for one case hears only that case."""
    return complaint_id is None or change.complaint_id == complaint_id
