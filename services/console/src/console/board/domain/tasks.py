"""Tasks (routing's ``/v1/tasks``) as the board and the case page offer them: who may pick a
task up or complete it (routing's ``routing.tasks.domain.rules``: the lead of the task's
team or a manager assigns, to an agent of that team or to themself; its assignee, that
lead or a manager completes; agents, leads and managers have tasks of their own), the outcomes
each kind ends with and where the customer's CSAT is recorded
(``routing.tasks.domain.outcomes``), when a follow-up call may be completed (its window,
``routing.tasks.domain.follow_up``), and the checks made before calling routing.

Kinds: ``review_reopen`` (the lead reviews a reopened case), ``follow_up_call`` (回访, from
15 days after a P1/P2 resolution, due by 30 days) and ``customer_unreachable`` (no channel
reached the customer for the confirmation request). Routing decides in the end; the pages
only leave out buttons and choices that could not work."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Final, Literal

from console.board.domain.task_view import TaskView, window_open
from console.cases.domain.forms import FieldProblem, check_text

# take: assign it to themself; assign: to an agent of the task's team;
# complete_later: the user may complete it, but not before its window opens
TaskAction = Literal["take", "assign", "complete", "complete_later"]
KINDS: Final = ("review_reopen", "follow_up_call", "customer_unreachable")
# The roles routing assigns tasks to and lets complete them (routing: StaffDep's roles);
# an administrator sees every task but works none.
TASK_ROLES: Final = frozenset({"agent", "lead", "manager"})
# routing.tasks.domain.outcomes.OUTCOMES, in the order the form lists them
OUTCOMES: Final[Mapping[str, tuple[str, ...]]] = {
    "review_reopen": ("confirmed_fix", "reassigned", "coached", "no_action"),
    "follow_up_call": ("reached", "not_reached", "new_issue_raised"),
    "customer_unreachable": ("contacted", "not_reached"),
}
ALL_OUTCOMES: Final = tuple(dict.fromkeys(o for outcomes in OUTCOMES.values() for o in outcomes))
# routing.tasks.domain.outcomes.CSAT_OUTCOMES: the customer was reached on the call
CSAT_OUTCOMES: Final[Mapping[str, frozenset[str]]] = {
    "follow_up_call": frozenset({"reached", "new_issue_raised"}),
}
CSAT_SCORES: Final = (1, 2, 3, 4, 5)  # routing: CSAT_MIN..CSAT_MAX
MAX_TASK_NOTE: Final = 2000  # routing: CompleteTaskIn.note


def outcomes_of(kind: str) -> tuple[str, ...]:
    """The outcomes a task of ``kind`` ends with (none for a kind this console does not know)."""
    return OUTCOMES.get(kind, ())


def csat_outcomes(kind: str) -> frozenset[str]:
    """The outcomes of ``kind`` with which the customer's CSAT may be recorded (a kind
    without them takes no CSAT: the form has no CSAT field)."""
    return CSAT_OUTCOMES.get(kind, frozenset())


def works_tasks(roles: Collection[str]) -> bool:
    """Whether a user has tasks of their own ("My tasks")."""
    return bool(TASK_ROLES.intersection(roles))


def task_kind(value: str | None) -> str | None:
    """A kind this console knows, else None."""
    return value if value in KINDS else None


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
    task_kind: str,
    available_from: datetime | None,
    now: datetime,
) -> frozenset[TaskAction]:
    """What the signed-in user may do with one task: ``take`` it (assign it to themself:
    a lead of its team or a manager, when it is not theirs already), ``assign`` it to an
    agent of its team (the same lead or manager) and ``complete`` it (with an outcome of
    its kind; ``complete_later`` while its window has not opened)."""
    if task_status != "open":
        return frozenset()
    leads = _leads(roles=roles, team=team, task_team=task_team)
    offered: set[TaskAction] = set()
    if leads:
        offered.add("assign")
        if task_assignee != subject:
            offered.add("take")
    staff = "agent" in roles or "lead" in roles
    completes = leads or (staff and task_assignee is not None and task_assignee == subject)
    if completes and outcomes_of(task_kind):
        ready = window_open(available_from, now)
        offered.add("complete" if ready else "complete_later")
    return frozenset(offered)


def offers_of(
    tasks: Iterable[TaskView],
    *,
    roles: Collection[str],
    subject: str,
    team: str | None,
    now: datetime,
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
            task_kind=t.kind,
            available_from=t.available_from,
            now=now,
        )
        for t in tasks
    }


def parse_csat(text: str) -> int | None:
    """The CSAT the form sent (``""``: none recorded); None for anything else too (see
    :func:`completion_problems`)."""
    value = text.strip()
    return int(value) if value.isdecimal() and len(value) <= 2 else None


def completion_problems(*, kind: str, outcome: str, note: str, csat: str) -> list[FieldProblem]:
    """An outcome of the task's kind (of any kind when the form did not say which), a note
    of at most 2000 characters (optional) and a CSAT (optional) of 1..5, only with an
    outcome where the customer was reached on a follow-up call."""
    problems = check_text("note", note, limit=MAX_TASK_NOTE, required=False)
    allowed = outcomes_of(kind) if kind else ALL_OUTCOMES
    if outcome not in allowed:
        problems.append(FieldProblem("outcome", "choice" if outcome else "required"))
    if not csat.strip():
        return problems
    score = parse_csat(csat)
    if score not in CSAT_SCORES:
        problems.append(FieldProblem("csat", "csat_range"))
    elif outcome in allowed and outcome not in _csat_outcomes(kind):
        problems.append(FieldProblem("csat", "csat_not_asked"))
    return problems


def _csat_outcomes(kind: str) -> frozenset[str]:
    if kind:
        return csat_outcomes(kind)
    return frozenset[str]().union(*CSAT_OUTCOMES.values())
