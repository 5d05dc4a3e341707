"""The board's use case: one team's picture, read at once from routing (agents, waiting
queue, cases at risk and breached, review tasks) and sla-watch (the next deadlines), with
the lead's token. sla-watch being down leaves its panel out; routing being down fails the
board (the page says to try again)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Final

from console.backends.domain.problems import BackendUnavailable
from console.backends.routing_api import RoutingApi
from console.backends.sla_watch_api import SlaWatchApi
from console.board.domain.board import (
    AgentLoad,
    Deadline,
    ReviewTask,
    agent_loads,
    deadlines,
    review_tasks,
)
from console.queue.domain.filters import QueueFilters
from console.queue.domain.rows import CasePage, WaitingCase, waiting_cases

DEADLINES: Final = 10


@dataclass(frozen=True, slots=True)
class Board:
    team: str
    agents: tuple[AgentLoad, ...]
    waiting: tuple[WaitingCase, ...]
    at_risk: CasePage
    breached: CasePage
    tasks: tuple[ReviewTask, ...] | None  # None: this routing has no tasks
    deadlines: tuple[Deadline, ...] | None  # None: sla-watch did not answer


async def _deadlines(
    sla_watch: SlaWatchApi, *, token: str, team: str
) -> tuple[Deadline, ...] | None:
    try:
        return deadlines(await sla_watch.clocks_at_risk(token=token, team=team, limit=DEADLINES))
    except BackendUnavailable:
        return None


async def _tasks(routing: RoutingApi, *, token: str, team: str) -> tuple[ReviewTask, ...] | None:
    if not (await routing.capabilities()).tasks:
        return None
    answer = await routing.tasks(token=token, params=[("status", "open"), ("team", team)])
    return review_tasks(answer)


async def board(
    *, routing: RoutingApi, sla_watch: SlaWatchApi, token: str, team: str, limit: int
) -> Board:
    def cases(sla: str) -> Any:
        params = QueueFilters(sla=(sla,)).routing_params(team=team, limit=limit)
        return routing.list_cases(token=token, params=params)

    agents, queue, at_risk, breached, tasks, clocks = await asyncio.gather(
        routing.agents(token=token, team=team),
        routing.team_queue(token=token, team=team),
        cases("at_risk"),
        cases("breached"),
        _tasks(routing, token=token, team=team),
        _deadlines(sla_watch, token=token, team=team),
    )
    return Board(
        team=team,
        agents=agent_loads(agents),
        waiting=waiting_cases(queue),
        at_risk=CasePage.of(at_risk),
        breached=CasePage.of(breached),
        tasks=tasks,
        deadlines=clocks,
    )
