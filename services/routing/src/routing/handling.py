"""Staff commands on a case (§3): first response, replies, waiting for the customer,
resuming, resolving, reassigning. Each authorises the caller against the case, decides
with the state machine and commits the change, its event and its history together."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from complaint_contracts.events import (
    ComplaintAgentReplied,
    ComplaintAssigned,
    ComplaintAwaitingCustomer,
    ComplaintFirstResponseSent,
    ComplaintResolved,
    ComplaintResumed,
)
from complaint_runtime.auth import Principal
from complaint_runtime.database import Database, UnitOfWork
from complaint_runtime.problems import Problem
from sqlalchemy import select

from routing.db import Agent, AgentRepository, Case, CaseAction, CaseRepository
from routing.domain.access import may_act
from routing.domain.assignment import pick_agent
from routing.domain.lifecycle import (
    ACTIVE,
    AwaitCustomer,
    Reassign,
    RecordFirstResponse,
    RecordReply,
    Resolve,
    Resume,
)
from routing.domain.teams import DEFAULT_TEAM_OWNERSHIP
from routing.transitions import Actor, decide_or_raise, load_case, masked, move, now_utc


@dataclass(frozen=True)
class CaseView:
    case: Case
    actions: list[CaseAction]


def _authorize(principal: Principal, case: Case, *, roles: frozenset[str] | None = None) -> None:
    held = principal.roles if roles is None else principal.roles & roles
    if not may_act(
        roles=held,
        subject=principal.subject,
        team=principal.team,
        case_team=case.team,
        case_assignee=case.assignee,
    ):
        raise Problem(
            403,
            "Forbidden",
            "Agents act on cases assigned to them, leads on their team's cases.",
            kind="forbidden",
        )


Step = Callable[[UnitOfWork, Case, Actor], Awaitable[None]]


async def _run(
    *,
    database: Database,
    complaint_id: str,
    principal: Principal,
    step: Step,
    roles: frozenset[str] | None = None,
) -> CaseView:
    async with database.unit_of_work() as uow:
        case = await load_case(uow, complaint_id)
        _authorize(principal, case, roles=roles)
        await step(uow, case, Actor(principal.subject))
        await uow.session.flush()
        actions = await CaseRepository(uow.session).actions(complaint_id)
    return CaseView(case, actions)


async def view_case(*, database: Database, complaint_id: str) -> CaseView:
    async with database.sessions() as session:
        cases = CaseRepository(session)
        case = await cases.get(complaint_id) if len(complaint_id) <= 36 else None
        if case is None:
            raise Problem(404, "Case not found", kind="not-found")
        return CaseView(case, await cases.actions(complaint_id))


async def record_first_response(
    *,
    database: Database,
    complaint_id: str,
    principal: Principal,
    message: str | None = None,
    channel: str | None = None,
) -> CaseView:
    async def step(uow: UnitOfWork, case: Case, actor: Actor) -> None:
        transition = decide_or_raise(case, RecordFirstResponse())
        now = now_utc()
        case.first_response_at = case.first_response_at or now
        event = ComplaintFirstResponseSent(
            complaint_id=case.complaint_id, actor=actor.id, channel=channel, responded_at=now
        )
        detail = {"channel": channel, "message": masked(message)}
        move(
            uow,
            case,
            transition,
            actor=actor,
            action="first_response_sent",
            event=event,
            at=now,
            detail=detail,
        )

    return await _run(database=database, complaint_id=complaint_id, principal=principal, step=step)


async def record_reply(
    *,
    database: Database,
    complaint_id: str,
    principal: Principal,
    message: str | None = None,
    in_reply_to: str | None = None,
    channel: str | None = None,
) -> CaseView:
    async def step(uow: UnitOfWork, case: Case, actor: Actor) -> None:
        transition = decide_or_raise(case, RecordReply())
        now = now_utc()
        event = ComplaintAgentReplied(
            complaint_id=case.complaint_id,
            actor=actor.id,
            in_reply_to=in_reply_to,
            channel=channel,
            replied_at=now,
        )
        detail = {"in_reply_to": in_reply_to, "channel": channel, "message": masked(message)}
        move(
            uow,
            case,
            transition,
            actor=actor,
            action="agent_replied",
            event=event,
            at=now,
            detail=detail,
        )

    return await _run(database=database, complaint_id=complaint_id, principal=principal, step=step)


async def await_customer(
    *, database: Database, complaint_id: str, principal: Principal, reason: str
) -> CaseView:
    async def step(uow: UnitOfWork, case: Case, actor: Actor) -> None:
        transition = decide_or_raise(case, AwaitCustomer())
        now = now_utc()
        why = masked(reason) or ""
        event = ComplaintAwaitingCustomer(
            complaint_id=case.complaint_id, actor=actor.id, reason=why, since=now
        )
        move(
            uow,
            case,
            transition,
            actor=actor,
            action="awaiting_customer",
            event=event,
            at=now,
            detail={"reason": why},
        )

    return await _run(database=database, complaint_id=complaint_id, principal=principal, step=step)


async def resume(*, database: Database, complaint_id: str, principal: Principal) -> CaseView:
    async def step(uow: UnitOfWork, case: Case, actor: Actor) -> None:
        transition = decide_or_raise(case, Resume(trigger="agent"))
        now = now_utc()
        event = ComplaintResumed(
            complaint_id=case.complaint_id, trigger="agent", actor=actor.id, resumed_at=now
        )
        move(
            uow,
            case,
            transition,
            actor=actor,
            action="resumed",
            event=event,
            at=now,
            detail={"trigger": "agent"},
        )

    return await _run(database=database, complaint_id=complaint_id, principal=principal, step=step)


async def resolve(
    *,
    database: Database,
    complaint_id: str,
    principal: Principal,
    solution_summary: str | None = None,
    solution_type: str | None = None,
    root_cause: str | None = None,
    preventive_measure: str | None = None,
) -> CaseView:
    async def step(uow: UnitOfWork, case: Case, actor: Actor) -> None:
        transition = decide_or_raise(
            case,
            Resolve(
                solution_summary=solution_summary,
                solution_type=solution_type,
                root_cause=root_cause,
            ),
        )
        now = now_utc()
        assert solution_summary is not None and root_cause is not None  # the guard passed
        summary, cause = masked(solution_summary.strip()), masked(root_cause.strip())
        measure = masked(preventive_measure.strip()) if preventive_measure else None
        event = ComplaintResolved(
            complaint_id=case.complaint_id,
            solution_summary=summary,
            solution_type=solution_type,
            root_cause=cause,
            preventive_measure=measure or None,
            actor=actor.id,
            resolved_at=now,
        )
        case.solution_summary, case.solution_type = summary, solution_type
        case.root_cause, case.preventive_measure = cause, measure or None
        case.resolved_at = now
        move(
            uow,
            case,
            transition,
            actor=actor,
            action="resolved",
            event=event,
            at=now,
            detail={"solution_type": solution_type},
        )

    return await _run(database=database, complaint_id=complaint_id, principal=principal, step=step)


async def _check_reassign_target(
    uow: UnitOfWork, *, team: str | None, assignee: str | None, new_team: str
) -> None:
    """A hand-off must land somewhere real: a known team, an agent of that team."""
    errors = []
    if team is not None:
        known = team in DEFAULT_TEAM_OWNERSHIP.values() or await uow.session.scalar(
            select(Agent.id).where(Agent.team == team).limit(1)
        )
        if not known:
            errors.append({"field": "team", "detail": f"no team {team!r}"})
    if assignee is not None:
        agent = await uow.session.get(Agent, assignee)
        if agent is None:
            errors.append({"field": "assignee", "detail": f"no agent {assignee!r}"})
        elif agent.team != new_team:
            errors.append({"field": "assignee", "detail": f"{assignee} is not in team {new_team}"})
    if errors:
        for error in errors:
            error |= {"in": "body", "pointer": f"/{error['field']}", "code": "unknown"}
        raise Problem(422, "Unknown reassignment target", kind="unknown-target", errors=errors)


async def reassign(
    *,
    database: Database,
    complaint_id: str,
    principal: Principal,
    reason: str,
    assignee: str | None = None,
    team: str | None = None,
) -> CaseView:
    """A hand-off (§5) by a lead or manager. Without an assignee the new team's
    least-loaded free agent gets it (or its queue); without a team the case stays in its
    team. The first-contact owner never changes, except that a case nobody owned yet gets
    its first assignee as owner."""

    async def step(uow: UnitOfWork, case: Case, actor: Actor) -> None:
        transition = decide_or_raise(case, Reassign())
        new_team = team or case.team or ""
        await _check_reassign_target(uow, team=team, assignee=assignee, new_team=new_team)
        new_assignee = assignee
        if new_assignee is None:
            loads = await AgentRepository(uow.session).loads(team=new_team, active_states=ACTIVE)
            new_assignee = pick_agent(
                [a for a in loads if a.agent_id != case.assignee], team=new_team
            )
        if new_team == case.team and new_assignee == case.assignee:
            raise Problem(
                409,
                "Nothing to reassign",
                "The case already has this team and assignee.",
                kind="no-change",
            )
        now = now_utc()
        why = masked(reason) or ""
        previous_team, previous_assignee = case.team, case.assignee
        case.team, case.assignee = new_team, new_assignee
        case.owner = case.owner or new_assignee
        event = ComplaintAssigned(
            complaint_id=case.complaint_id,
            team=new_team,
            assignee=new_assignee,
            owner=case.owner,
            actor=actor.id,
            reason=why,
            handoff=True,
            previous_team=previous_team,
            previous_assignee=previous_assignee,
        )
        detail = {
            "team": new_team,
            "assignee": new_assignee,
            "previous_team": previous_team,
            "previous_assignee": previous_assignee,
            "reason": why,
        }
        move(
            uow,
            case,
            transition,
            actor=actor,
            action="reassigned",
            event=event,
            at=now,
            detail=detail,
        )

    return await _run(
        database=database,
        complaint_id=complaint_id,
        principal=principal,
        step=step,
        roles=frozenset({"lead", "manager"}),
    )
