"""The case page's use cases: read a case file with what its page offers (actions, canned
replies, agents and teams to transfer to, what the user may do with its tasks), and each
action, checked and then sent to routing with the user's token and the case version the
page was drawn from (the case's other tools are :mod:`console.cases.tools`).

Refusals are routing's (``NotFound``, ``Conflict`` such as ``stale-case`` or
``illegal-transition``, ``InvalidInput`` with field errors) or the console's own checks
made first (:class:`FormInvalid`: an empty or over-long text)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final, TypeVar

from complaint_runtime.errors import DomainError, NotFound

from console.backends.domain.capabilities import RoutingCapabilities
from console.backends.http import BearerTokens
from console.backends.routing_api import Command, RoutingApi
from console.board.domain.tasks import TaskAction, offers_of
from console.cases.domain.actions import Action, available_actions, case_tools
from console.cases.domain.canned import CannedReply, canned_replies_of
from console.cases.domain.case_view import CaseView, case_view
from console.cases.domain.forms import (
    MAX_MESSAGE,
    MAX_NOTE,
    MAX_REASON,
    FieldProblem,
    check_text,
    clean,
    require_valid,
)
from console.signin.domain.session_user import SessionUser

COMPLAINT_ID: Final = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
TEAM: Final = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
USER_ID: Final = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CasePageData:
    case: CaseView
    actions: frozenset[Action]
    canned_replies: tuple[CannedReply, ...]
    agents: tuple[str, ...]  # the case team's agents (leads and managers only)
    teams: tuple[str, ...]  # teams to transfer to (leads and managers only)
    task_offers: Mapping[int, frozenset[TaskAction]]  # what the user may do with each task


def checked_id(complaint_id: str) -> str:
    """A complaint id as routing knows them; anything else is not found (never sent on)."""
    if not COMPLAINT_ID.fullmatch(complaint_id):
        raise NotFound("No such case.")
    return complaint_id.lower()


async def _optional(call: Awaitable[T]) -> T | None:
    """An optional part of the page: left out when routing refuses or fails it."""
    try:
        return await call
    except DomainError:
        return None


async def load_case(
    *,
    routing: RoutingApi,
    tokens: BearerTokens,
    user: SessionUser,
    complaint_id: str,
    now: datetime,
) -> CasePageData:
    """The case file and what the page offers ``user`` at ``now`` (tasks have windows)."""
    answer = await routing.case_file(tokens=tokens, complaint_id=checked_id(complaint_id))
    case = case_view(answer)
    capabilities = await routing.capabilities()
    actions = available_actions(
        status=case.status,
        roles=user.roles,
        subject=user.subject,
        team=user.team,
        case_team=case.team,
        case_assignee=case.assignee,
        notes=capabilities.notes,
    ) | case_tools(
        status=case.status,
        roles=user.roles,
        team=user.team,
        case_team=case.team,
        escalation_level=case.escalation_level,
        duplicate_of=case.duplicate_of is not None,
        offered=_tools_of(capabilities),
    )
    canned: tuple[CannedReply, ...] = ()
    if capabilities.canned_replies and actions & {"first_response", "reply", "ask"}:
        params = [("category", case.category)] if case.category else []
        params += [("language", case.language)] if case.language else []
        canned = canned_replies_of(
            await _optional(routing.canned_replies(tokens=tokens, params=params))
        )
    agents: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    if "transfer" in actions and user.is_lead:
        found_agents = await _optional(routing.agents(tokens=tokens, team=case.team))
        found_teams = await _optional(routing.teams(tokens=tokens))
        agents = _ids(found_agents)
        teams = _ids(found_teams)
    offers = (
        offers_of(case.tasks, roles=user.roles, subject=user.subject, team=user.team, now=now)
        if capabilities.tasks
        else {}
    )
    return CasePageData(case, actions, canned, agents, teams, offers)


def _tools_of(capabilities: RoutingCapabilities) -> frozenset[str]:
    return frozenset(
        name
        for name in ("escalate", "link_duplicate", "unlink_duplicate", "reveal_contact")
        if getattr(capabilities, name)
    )


def _ids(answer: object) -> tuple[str, ...]:
    if not isinstance(answer, list):
        return ()
    return tuple(sorted(str(a["id"]) for a in answer if isinstance(a, Mapping) and "id" in a))


async def _send(
    routing: RoutingApi,
    *,
    tokens: BearerTokens,
    complaint_id: str,
    command: Command,
    body: Mapping[str, str] | None,
    version: int | None,
) -> None:
    await routing.command(
        tokens=tokens,
        complaint_id=checked_id(complaint_id),
        command=command,
        body=body,
        version=version,
    )


async def answer_customer(
    *,
    routing: RoutingApi,
    tokens: BearerTokens,
    complaint_id: str,
    version: int | None,
    message: str,
    first: bool,
    in_reply_to: str | None,
) -> None:
    """The first response (a case assigned or reopened) or a later reply."""
    require_valid(check_text("message", message, limit=MAX_MESSAGE))
    body = clean({"message": message})
    if not first and in_reply_to and USER_ID.fullmatch(in_reply_to):
        body["in_reply_to"] = in_reply_to
    await _send(
        routing,
        tokens=tokens,
        complaint_id=complaint_id,
        command="first-response" if first else "replies",
        body=body,
        version=version,
    )


async def ask_customer(
    *,
    routing: RoutingApi,
    tokens: BearerTokens,
    complaint_id: str,
    version: int | None,
    question: str,
) -> None:
    """Wait for the customer with a question (pauses the resolution clock)."""
    require_valid(check_text("reason", question, limit=MAX_REASON))
    await _send(
        routing,
        tokens=tokens,
        complaint_id=complaint_id,
        command="awaiting-customer",
        body=clean({"reason": question}),
        version=version,
    )


async def resume(
    *, routing: RoutingApi, tokens: BearerTokens, complaint_id: str, version: int | None
) -> None:
    await _send(
        routing,
        tokens=tokens,
        complaint_id=complaint_id,
        command="resume",
        body=None,
        version=version,
    )


async def add_note(
    *, routing: RoutingApi, tokens: BearerTokens, complaint_id: str, version: int | None, text: str
) -> None:
    """An internal note (staff only, never sent to the customer)."""
    require_valid(check_text("text", text, limit=MAX_NOTE))
    await _send(
        routing,
        tokens=tokens,
        complaint_id=complaint_id,
        command="notes",
        body=clean({"text": text}),
        version=version,
    )


async def resolve(
    *,
    routing: RoutingApi,
    tokens: BearerTokens,
    complaint_id: str,
    version: int | None,
    fields: Mapping[str, str],
) -> None:
    """Resolve: routing's closure guard names each missing required field (solution
    summary, type, root cause); the console only bounds the texts' length."""
    problems = [
        p
        for name in ("solution_summary", "root_cause", "preventive_measure")
        for p in check_text(name, fields.get(name), limit=MAX_MESSAGE, required=False)
    ]
    require_valid(problems)
    body = clean(
        {
            name: fields.get(name)
            for name in ("solution_summary", "solution_type", "root_cause", "preventive_measure")
        }
    )
    await _send(
        routing,
        tokens=tokens,
        complaint_id=complaint_id,
        command="resolve",
        body=body,
        version=version,
    )


async def transfer(
    *,
    routing: RoutingApi,
    tokens: BearerTokens,
    complaint_id: str,
    version: int | None,
    team: str,
    assignee: str,
    reason: str,
) -> None:
    """Hand the case to another team and/or agent (routing keeps the first-contact owner)."""
    problems = check_text("reason", reason, limit=MAX_REASON)
    if team.strip() and not TEAM.fullmatch(team.strip()):
        problems.append(FieldProblem("team", "pattern"))
    if assignee.strip() and not USER_ID.fullmatch(assignee.strip()):
        problems.append(FieldProblem("assignee", "pattern"))
    require_valid(problems)
    body = clean({"team": team, "assignee": assignee, "reason": reason})
    await _send(
        routing,
        tokens=tokens,
        complaint_id=complaint_id,
        command="transfer",
        body=body,
        version=version,
    )


async def recategorize(
    *,
    routing: RoutingApi,
    tokens: BearerTokens,
    complaint_id: str,
    version: int | None,
    fields: Mapping[str, str],
) -> None:
    """A lead's correction of category, sub-category or priority, with the reason."""
    problems = check_text("reason", fields.get("reason"), limit=MAX_REASON)
    body = clean(
        {name: fields.get(name) for name in ("category", "subcategory", "priority", "reason")}
    )
    if not body.keys() & {"category", "subcategory", "priority"}:
        problems.append(FieldProblem("category", "one_of"))
    require_valid(problems)
    await _send(
        routing,
        tokens=tokens,
        complaint_id=complaint_id,
        command="recategorize",
        body=body,
        version=version,
    )
