"""What an event means for live updates: a change of one case, and who the case belongs
to afterwards (team and assignee, which only ``complaint.assigned`` moves)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from complaint_contracts.base import EventData
from complaint_contracts.events import ComplaintAssigned, ComplaintClosed


@dataclass(frozen=True, slots=True)
class KnownCase:
    """Whose a case is, as the console learned from the events so far."""

    team: str | None = None
    assignee: str | None = None
    closed: bool = False


@dataclass(frozen=True, slots=True)
class CaseChange:
    """One change of one case; ``previous_*`` are set when it moved (a hand-off), so the
    team and the agent it left hear of it too."""

    complaint_id: str
    event_type: str
    occurred_at: datetime
    team: str | None = None
    assignee: str | None = None
    previous_team: str | None = None
    previous_assignee: str | None = None


def change_of(
    data: EventData, *, complaint_id: str, occurred_at: datetime, known: KnownCase | None
) -> tuple[CaseChange, KnownCase]:
    """The change ``data`` makes to a case the console knew as ``known`` (None: never
    heard of it), and what it knows of the case afterwards."""
    before = known or KnownCase()
    after = before
    previous_team = previous_assignee = None
    if isinstance(data, ComplaintAssigned):
        after = replace(before, team=data.team, assignee=data.assignee)
        previous_team = data.previous_team or before.team
        previous_assignee = data.previous_assignee or before.assignee
    elif isinstance(data, ComplaintClosed):
        after = replace(before, closed=True)
    change = CaseChange(
        complaint_id=complaint_id,
        event_type=data.event_name,
        occurred_at=occurred_at,
        team=after.team,
        assignee=after.assignee,
        previous_team=previous_team if previous_team != after.team else None,
        previous_assignee=previous_assignee if previous_assignee != after.assignee else None,
    )
    return change, after
