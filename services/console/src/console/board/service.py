"""The board's use cases: one team's picture, read at once from routing (agents, waiting
queue, cases at risk and breached, the open tasks of each kind with how many are overdue)
and sla-watch (the next deadlines), with the lead's token; the user's own open tasks ("My
tasks", a page of each kind, and the navigation's count of them); and the tasks' actions
(pick one up, give it to an agent of its team, complete it with an outcome of its kind
and, for a follow-up call, the customer's CSAT), which the case page and "My tasks" offer
too. sla-watch being down leaves its panel out; routing being down fails the board (the
page says to try again)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from console.backends.domain.problems import BackendUnavailable
from console.backends.http import BearerTokens
from console.backends.routing_api import RoutingApi
from console.backends.sla_watch_api import SlaWatchApi
from console.board.domain.board import AgentLoad, Deadline, agent_loads, deadlines
from console.board.domain.task_view import (
    TaskCount,
    TaskGroup,
    TaskList,
    task_count,
    task_group,
    task_list,
)
from console.board.domain.tasks import (
    KINDS,
    TaskAction,
    completion_problems,
    offers_of,
    parse_csat,
    task_kind,
)
from console.cases.domain.forms import FieldProblem, clean, require_valid
from console.queue.domain.filters import QueueFilters
from console.queue.domain.rows import CasePage, WaitingCase, waiting_cases
from console.signin.domain.session_user import SessionUser

DEADLINES: Final = 10
BADGE_LIMIT: Final = 50  # the navigation counts up to this many of the user's tasks ("50+")
USER_ID: Final = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


@dataclass(frozen=True, slots=True)
class Board:
    team: str
    agents: tuple[AgentLoad, ...]
    waiting: tuple[WaitingCase, ...]
    at_risk: CasePage
    breached: CasePage
    tasks: tuple[TaskGroup, ...] | None  # one group per kind; None: this routing has no tasks
    task_offers: Mapping[int, frozenset[TaskAction]]  # what the lead may do with each task
    deadlines: tuple[Deadline, ...] | None  # None: sla-watch did not answer


async def _deadlines(
    sla_watch: SlaWatchApi, *, tokens: BearerTokens, team: str
) -> tuple[Deadline, ...] | None:
    try:
        return deadlines(await sla_watch.clocks_at_risk(tokens=tokens, team=team, limit=DEADLINES))
    except BackendUnavailable:
        return None


async def _tasks(
    routing: RoutingApi, *, tokens: BearerTokens, team: str, limit: int, now: datetime
) -> tuple[TaskGroup, ...] | None:
    """The team's open tasks, one list (and overdue count) per kind."""
    if not (await routing.capabilities()).tasks:
        return None

    def open_of(kind: str) -> Any:
        params = [("status", "open"), ("team", team), ("kind", kind), ("limit", str(limit))]
        return routing.tasks(tokens=tokens, params=params)

    answers = await asyncio.gather(*(open_of(kind) for kind in KINDS))
    return tuple(
        task_group(answer, kind=kind, now=now) for kind, answer in zip(KINDS, answers, strict=True)
    )


async def board(
    *,
    routing: RoutingApi,
    sla_watch: SlaWatchApi,
    tokens: BearerTokens,
    user: SessionUser,
    team: str,
    limit: int,
    now: datetime,
) -> Board:
    def cases(sla: str) -> Any:
        params = QueueFilters(sla=(sla,)).routing_params(team=team, limit=limit)
        return routing.list_cases(tokens=tokens, params=params)

    agents, queue, at_risk, breached, tasks, clocks = await asyncio.gather(
        routing.agents(tokens=tokens, team=team),
        routing.team_queue(tokens=tokens, team=team),
        cases("at_risk"),
        cases("breached"),
        _tasks(routing, tokens=tokens, team=team, limit=limit, now=now),
        _deadlines(sla_watch, tokens=tokens, team=team),
    )
    return Board(
        team=team,
        agents=agent_loads(agents),
        waiting=waiting_cases(queue),
        at_risk=CasePage.of(at_risk),
        breached=CasePage.of(breached),
        tasks=tasks,
        task_offers=offers_of(
            (t for group in tasks or () for t in group.all),
            roles=user.roles,
            subject=user.subject,
            team=user.team,
            now=now,
        ),
        deadlines=clocks,
    )


@dataclass(frozen=True, slots=True)
class MyTasks:
    """The signed-in user's open tasks: a page of each kind, or a later page of one."""

    lists: tuple[TaskList, ...] | None  # one per kind shown; None: this routing has no tasks
    offers: Mapping[int, frozenset[TaskAction]]  # what the user may do with each task
    kind: str | None  # the one kind shown (a later page of it); None: every kind


async def my_tasks(
    *,
    routing: RoutingApi,
    tokens: BearerTokens,
    user: SessionUser,
    kind: str | None,
    cursor: str | None,
    limit: int,
    now: datetime,
) -> MyTasks:
    """The open tasks assigned to the user (routing's ``assignee=me``), the first page of
    each kind; with a ``kind``, only that one, from ``cursor`` (a cursor of no kind is
    ignored). routing refuses a cursor of other filters (422 ``invalid-cursor``)."""
    shown = task_kind(kind)
    if not (await routing.capabilities()).tasks:
        return MyTasks(lists=None, offers={}, kind=shown)
    kinds = (shown,) if shown is not None else KINDS
    page = [("cursor", cursor)] if shown is not None and cursor else []

    def open_of(one: str) -> Any:
        params = [("assignee", "me"), ("status", "open"), ("kind", one), ("limit", str(limit))]
        return routing.tasks(tokens=tokens, params=[*params, *page])

    answers = await asyncio.gather(*(open_of(one) for one in kinds))
    lists = tuple(task_list(answer, kind=one) for one, answer in zip(kinds, answers, strict=True))
    offers = offers_of(
        (t for found in lists for t in found.tasks),
        roles=user.roles,
        subject=user.subject,
        team=user.team,
        now=now,
    )
    return MyTasks(lists=lists, offers=offers, kind=shown)


async def count_my_tasks(
    *, routing: RoutingApi, tokens: BearerTokens, now: datetime
) -> TaskCount | None:
    """How many of the user's open tasks are workable now and overdue (one call to
    routing, up to :data:`BADGE_LIMIT` counted); None when there is nothing to count or
    routing cannot say (the navigation then shows no count)."""
    if not (await routing.capabilities()).tasks:
        return None
    params = [("assignee", "me"), ("status", "open"), ("limit", str(BADGE_LIMIT))]
    try:
        answer = await routing.tasks(tokens=tokens, params=params)
    except BackendUnavailable:
        return None
    found = task_count(answer, now=now)
    return found if found.workable or found.overdue else None


async def take_task(
    *, routing: RoutingApi, tokens: BearerTokens, user: SessionUser, task_id: int
) -> None:
    """Assign the task to the signed-in user (a lead picks a task up); routing refuses
    anyone who may not (403), a task already done (409 ``task-done``)."""
    if not USER_ID.fullmatch(user.subject):
        require_valid([FieldProblem("assignee", "pattern")])
    await routing.assign_task(tokens=tokens, task_id=task_id, assignee=user.subject)


async def assign_task(
    *, routing: RoutingApi, tokens: BearerTokens, task_id: int, assignee: str
) -> None:
    """Give the task to ``assignee``, an agent of its team (a lead of that team or a
    manager does); routing refuses anyone else (422 ``unknown-target``), a user who may
    not assign it (403), a task done already (409 ``task-done``), its own assignee (409
    ``no-change``)."""
    agent = assignee.strip()
    if not agent:
        require_valid([FieldProblem("assignee", "required")])
    if not USER_ID.fullmatch(agent):
        require_valid([FieldProblem("assignee", "pattern")])
    await routing.assign_task(tokens=tokens, task_id=task_id, assignee=agent)


async def complete_task(
    *,
    routing: RoutingApi,
    tokens: BearerTokens,
    task_id: int,
    kind: str,
    outcome: str,
    note: str,
    csat: str,
) -> None:
    """Complete the task with an outcome of its ``kind`` (as the form says; routing knows
    the task's own), an optional note and, for a follow-up call that reached the customer,
    the CSAT 1..5 they gave; routing refuses a follow-up call before its window (409
    ``task-not-available``)."""
    require_valid(
        completion_problems(kind=kind.strip(), outcome=outcome.strip(), note=note, csat=csat)
    )
    body: dict[str, Any] = clean({"outcome": outcome, "note": note})
    score = parse_csat(csat)
    if score is not None:
        body["csat"] = score
    await routing.complete_task(tokens=tokens, task_id=task_id, body=body)
