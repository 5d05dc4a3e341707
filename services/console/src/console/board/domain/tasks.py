"""Review tasks (routing's ``/v1/tasks``) as the board and the case page offer them: who
may pick a task up or complete it (routing's ``routing.tasks.domain.rules``: the lead of
the task's team or a manager assigns; its assignee, that lead or a manager completes), the
outcomes a review ends with, and the checks made before calling routing.

Routing decides in the end; the pages only leave out buttons that could not work."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Final, Literal, Protocol

from console.cases.domain.forms import FieldProblem, check_text

TaskAction = Literal["take", "complete"]
# routing.tasks.domain.rules.OUTCOMES, in the order the form lists them
OUTCOMES: Final = ("confirmed_fix", "reassigned", "coached", "no_action")
MAX_TASK_NOTE: Final = 2000  # routing: CompleteTaskIn.note


def _leads(*, roles: Collection[str], team: str | None, task_team: str | None) -> bool:
    if "manager" in roles:
        return True
    return "lead" in roles and team is not None and team == task_team


def task_actions(
    *,
    roles: Collection[str],
    subject: str,
    team: str | None,
    task_team: str | None,
    task_status: str,
    task_assignee: str | None,
) -> frozenset[TaskAction]:
    """What the signed-in user may do with one task: ``take`` it (assign it to themself:
    a lead of its team or a manager, when it is not theirs already) and ``complete`` it."""
    if task_status != "open":
        return frozenset()
    leads = _leads(roles=roles, team=team, task_team=task_team)
    offered: set[TaskAction] = set()
    if leads and task_assignee != subject:
        offered.add("take")
    staff = "agent" in roles or "lead" in roles
    if leads or (staff and task_assignee is not None and task_assignee == subject):
        offered.add("complete")
    return frozenset(offered)


class Task(Protocol):
    """A task as the board (``ReviewTask``) and the case file (``TaskView``) know it."""

    @property
    def id(self) -> int: ...
    @property
    def team(self) -> str | None: ...
    @property
    def status(self) -> str: ...
    @property
    def assignee(self) -> str | None: ...


def offers_of(
    tasks: Iterable[Task], *, roles: Collection[str], subject: str, team: str | None
) -> dict[int, frozenset[TaskAction]]:
    """:func:`task_actions` of each task, by task id."""
    return {
        t.id: task_actions(
            roles=roles,
            subject=subject,
            team=team,
            task_team=t.team,
            task_status=t.status,
            task_assignee=t.assignee,
        )
        for t in tasks
    }


def completion_problems(*, outcome: str, note: str) -> list[FieldProblem]:
    """An outcome of the vocabulary and a note of at most 2000 characters (optional)."""
    problems = check_text("note", note, limit=MAX_TASK_NOTE, required=False)
    if outcome not in OUTCOMES:
        problems.append(FieldProblem("outcome", "choice" if outcome else "required"))
    return problems
