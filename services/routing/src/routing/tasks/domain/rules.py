"""What a task is and who may do what with it.

A task is a piece of work on a case for a person, beside the case's own state: ``kind``
says which (``review_reopen``: the team lead reviews why a resolved case came back;
``follow_up_call``: the 回访 call 15–30 days after a P1/P2 resolution;
``customer_unreachable``: no channel reaches the customer for the confirmation request,
see :mod:`routing.tasks.domain.follow_up`). A task is ``open`` until someone completes it
with an ``outcome`` of its kind (:mod:`routing.tasks.domain.outcomes`), then ``done`` for
good; an open task past its due time is overdue.

Who (§10, per object, like the cases):

- **sees** a task: managers and administrators every task, a lead their team's tasks, an
  agent (and a lead) the tasks assigned to them. A task the caller may not see is a 404,
  never a 403: the answer does not tell that it exists. The case file shows a case's tasks
  to whoever sees the case: its history records every task change anyway.
- **assigns** a task: the lead of the task's team or a manager, to an agent of that team
  (the agents table) or, for a lead, to themself (leads pick review tasks up).
- **completes** a task: its assignee, the lead of its team or a manager.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Final, Literal

from routing.casefile.domain.visibility import Visibility

TaskKind = Literal["review_reopen", "follow_up_call", "customer_unreachable"]
KINDS: Final[tuple[TaskKind, ...]] = ("review_reopen", "follow_up_call", "customer_unreachable")
# Kinds of which a case has at most one open task (the database holds it: a partial
# unique index); a review is per reopen.
SINGLE_OPEN_KINDS: Final[frozenset[TaskKind]] = frozenset(
    {"follow_up_call", "customer_unreachable"}
)
TaskStatus = Literal["open", "done"]
STATUSES: Final[tuple[TaskStatus, ...]] = ("open", "done")
DEFAULT_REVIEW_DUE: Final = timedelta(hours=24)
SEE_ALL_ROLES: Final = frozenset({"manager", "admin"})


def due_at(created_at: datetime, *, within: timedelta) -> datetime:
    """When a task created at ``created_at`` falls due (wall-clock time)."""
    return created_at + within


def overdue(*, status: str, due_at: datetime, now: datetime) -> bool:
    """An open task past its due time (the due time itself is still in time)."""
    return status == "open" and now > due_at


def task_visibility_of(*, roles: Collection[str], subject: str, team: str | None) -> Visibility:
    """The tasks one caller sees, as the case lists' filter shape: all of them, their
    team's (a lead with a ``team`` claim) and those assigned to them (agents and leads)."""
    if SEE_ALL_ROLES.intersection(roles):
        return Visibility(everything=True)
    staff = "agent" in roles or "lead" in roles
    return Visibility(
        everything=False,
        team=team if "lead" in roles else None,
        assignee=subject if staff else None,
    )


def leads_team(*, roles: Collection[str], team: str | None, task_team: str) -> bool:
    """The caller is the lead of the task's team (a lead without a team claim leads none)."""
    return "lead" in roles and team is not None and team == task_team


def may_assign(*, roles: Collection[str], team: str | None, task_team: str) -> bool:
    return "manager" in roles or leads_team(roles=roles, team=team, task_team=task_team)


def may_complete(
    *,
    roles: Collection[str],
    subject: str,
    team: str | None,
    task_team: str,
    task_assignee: str | None,
) -> bool:
    if may_assign(roles=roles, team=team, task_team=task_team):
        return True
    staff = "agent" in roles or "lead" in roles
    return staff and task_assignee is not None and task_assignee == subject
