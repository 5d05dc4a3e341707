"""The queues' use cases: a page of the caller's own open cases, of a team's cases, and a
team's waiting queue, read from routing with the caller's token (routing decides what the
caller sees: a team they do not belong to lists nothing)."""

from __future__ import annotations

import re
from typing import Final

from complaint_runtime.errors import Forbidden

from console.backends.http import BearerTokens
from console.backends.routing_api import RoutingApi
from console.queue.domain.filters import QueueFilters
from console.queue.domain.rows import CasePage, WaitingCase, waiting_cases
from console.signin.domain.session_user import SessionUser

TEAM_CODE: Final = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")


async def my_cases(
    *,
    routing: RoutingApi,
    tokens: BearerTokens,
    filters: QueueFilters,
    limit: int,
    cursor: str | None,
) -> CasePage:
    params = filters.routing_params(assignee="me", limit=limit, cursor=cursor)
    return CasePage.of(await routing.list_cases(tokens=tokens, params=params))


async def team_cases(
    *,
    routing: RoutingApi,
    tokens: BearerTokens,
    team: str,
    filters: QueueFilters,
    limit: int,
    cursor: str | None,
) -> CasePage:
    params = filters.routing_params(team=team, limit=limit, cursor=cursor)
    return CasePage.of(await routing.list_cases(tokens=tokens, params=params))


async def waiting(
    *, routing: RoutingApi, tokens: BearerTokens, team: str
) -> tuple[WaitingCase, ...]:
    return waiting_cases(await routing.team_queue(tokens=tokens, team=team))


async def team_codes(*, routing: RoutingApi, tokens: BearerTokens) -> list[str]:
    """The teams a manager can pick from (routing's team list)."""
    teams = await routing.teams(tokens=tokens)
    return sorted(str(t["id"]) for t in teams if isinstance(t, dict) and "id" in t)


def team_of(user: SessionUser, asked: str | None) -> str | None:
    """The team a page shows: a manager's pick (or none yet), everyone else's own team
    (another team's code in the address is refused rather than silently replaced)."""
    if asked is not None and not TEAM_CODE.fullmatch(asked):
        asked = None
    if user.sees_all_teams:
        return asked
    if asked is not None and asked != user.team:
        raise Forbidden("You see your own team's queue only.", kind="other-team")
    return user.team
