"""The assignment engine's use cases (§5), each inside the caller's transaction: place a new
or reopened case, free an agent and drain the team queue into them, transfer a case.

Every change of who holds a case changes the agents' load counters in the same
transaction (claim on arrival, release on resolve or transfer), and every agent that frees
up or comes online takes the longest-waiting queued case they qualify for at once.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from complaint_contracts.events import ComplaintAssigned
from complaint_runtime.database import UnitOfWork
from complaint_runtime.errors import field_error

from routing.assignment.db import AssignmentRepository, needs_of, snapshot_of
from routing.assignment.domain.agent_choice import (
    CaseNeeds,
    has_room,
    level_fits,
    next_queued_for,
    rank_agents,
    transfer_target_problem,
)
from routing.assignment.domain.errors import AgentUnavailableError, UnknownTargetError
from routing.cases.domain.errors import NoChangeError
from routing.cases.domain.lifecycle import ACTIVE, Reassign, Transition
from routing.cases.transitions import (
    ROUTING,
    SOURCE,
    Actor,
    decide_or_raise,
    masked,
    move,
    now_utc,
)
from routing.db import Agent, Case


async def _choose_and_claim(
    repo: AssignmentRepository,
    needs: CaseNeeds,
    *,
    customer_ref: str | None,
    at: datetime,
    exclude: Collection[str | None] = (),
) -> tuple[str | None, bool]:
    """Claim the best free agent for ``needs``; ``(agent, by_account_manager)``. The caller
    holds the team lock. A failed claim (someone else's commit filled the agent) moves on
    to the next candidate."""
    agents = [a for a in await repo.snapshots(needs.team) if a.agent_id not in exclude]
    manager = None
    if needs.tier == "vip" and customer_ref is not None:
        found = await repo.account_manager_agent(customer_ref)
        if found is not None and found.id not in exclude:
            manager = snapshot_of(found)
    for agent_id in rank_agents(agents, needs, account_manager=manager):
        if await repo.claim(agent_id, at=at):
            return agent_id, manager is not None and agent_id == manager.agent_id
    return None, False


async def assign_new(*, uow: UnitOfWork, case: Case, at: datetime) -> str:
    """Team by category ownership, then the best free agent (also the first-contact owner)
    or the team queue. Sets ``case.team``, ``assignee``, ``owner``, ``queued_at``; returns
    the reason the event carries."""
    repo = AssignmentRepository(uow.session)
    team = await repo.owning_team(case.category)
    case.team = team
    await repo.lock_teams([team])
    agent, by_manager = await _choose_and_claim(
        repo, needs_of(case, team=team), customer_ref=case.customer_ref, at=at
    )
    case.assignee = case.owner = agent
    case.queued_at = None if agent else at
    reason = f"team {team} owns category {case.category}"
    if by_manager:
        reason += "; the VIP customer's account manager"
    if agent is None:
        reason += "; no qualified agent online under capacity, queued"
    return reason


async def assign_reopened(*, uow: UnitOfWork, case: Case, at: datetime) -> str | None:
    """A reopened case goes back to its owner (§3) when the owner is online with room;
    otherwise to the team's best free agent, or the queue. Returns the new assignee."""
    repo = AssignmentRepository(uow.session)
    team = case.team or await repo.owning_team(case.category)
    case.team = team
    owner_agent = await repo.agent(case.owner) if case.owner else None
    await repo.lock_teams([team, owner_agent.team if owner_agent else None])
    agent: str | None = None
    if (
        owner_agent is not None
        and level_fits(snapshot_of(owner_agent), needs_of(case))
        and await repo.claim(owner_agent.id, at=at)
    ):
        agent = owner_agent.id
    else:
        agent, _ = await _choose_and_claim(
            repo, needs_of(case), customer_ref=case.customer_ref, at=at
        )
    case.assignee = agent
    case.queued_at = None if agent else at
    return agent


async def release_and_drain(
    *, uow: UnitOfWork, agent_id: str | None, at: datetime, exclude: Collection[str] = ()
) -> list[str]:
    """A case left ``agent_id`` (resolved, transferred): one fewer open case, and the
    team queue drains into the freed slot. Returns the complaint ids drained."""
    if agent_id is None:
        return []
    repo = AssignmentRepository(uow.session)
    agent = await repo.agent(agent_id)
    if agent is None:
        return []
    await repo.lock_teams([agent.team])
    await repo.release(agent_id)
    return await drain(uow=uow, agent_id=agent_id, at=at, exclude=exclude)


async def drain(
    *, uow: UnitOfWork, agent_id: str, at: datetime, exclude: Collection[str] = ()
) -> list[str]:
    """Give ``agent_id`` the longest-waiting queued cases they qualify for, while they are
    online with room. The caller holds the agent's team lock."""
    repo = AssignmentRepository(uow.session)
    skipped = set(exclude)
    drained: list[str] = []
    while True:
        agent = await repo.agent(agent_id)
        if agent is None or not has_room(snapshot_of(agent)):
            return drained
        me = snapshot_of(agent)
        candidates = [q for q in await repo.queued_for(me) if q.complaint_id not in skipped]
        chosen = next_queued_for(me, candidates)
        if chosen is None:
            return drained
        case = await repo.lock_queued(chosen.complaint_id)
        if case is None:  # taken or held by another transaction: the next one
            skipped.add(chosen.complaint_id)
            continue
        if not await repo.claim(agent_id, at=at):
            return drained
        _take_from_queue(uow, case, agent, at=at)
        drained.append(case.complaint_id)
        skipped.add(case.complaint_id)


def _take_from_queue(uow: UnitOfWork, case: Case, agent: Agent, *, at: datetime) -> None:
    waited = int((at - case.queued_at).total_seconds()) if case.queued_at else 0
    case.assignee = agent.id
    case.owner = case.owner or agent.id
    case.queued_at = None
    event = ComplaintAssigned(
        complaint_id=case.complaint_id,
        team=case.team or agent.team,
        assignee=agent.id,
        owner=case.owner,
        actor=SOURCE,
        reason=f"from the {case.team} queue after {waited} s",
    )
    move(
        uow,
        case,
        decide_or_raise(case, Reassign()),
        actor=ROUTING,
        action="assigned_from_queue",
        event=event,
        at=at,
        detail={"team": case.team, "assignee": agent.id, "waited_s": waited},
    )


async def _check_target(
    repo: AssignmentRepository, *, team: str | None, assignee: str | None, new_team: str
) -> Agent | None:
    """A hand-off must land somewhere real: a known team, an agent of that team (422)."""
    errors = []
    if team is not None and not await repo.team_exists(team):
        errors.append(field_error("team", f"no team {team!r}", code="unknown"))
    agent = await repo.agent(assignee) if assignee is not None else None
    if assignee is not None:
        if agent is None:
            errors.append(field_error("assignee", f"no agent {assignee!r}", code="unknown"))
        elif agent.team != new_team:
            detail = f"{assignee} is not in team {new_team}"
            errors.append(field_error("assignee", detail, code="unknown"))
    if errors:
        raise UnknownTargetError(errors=errors)
    return agent


async def transfer_case(
    *,
    uow: UnitOfWork,
    case: Case,
    actor: Actor,
    reason: str,
    assignee: str | None = None,
    team: str | None = None,
) -> None:
    """A hand-off (§5) to another team and/or agent, keeping the whole record and the
    first-contact owner (首问负责制; a case nobody owned yet gets its first assignee).

    Without an assignee the target team's best free agent other than the current one takes
    it, or its queue. A named agent must be online, under capacity and (P1 / escalated)
    senior: ``AgentUnavailableError`` (409) otherwise. Cases in an active state move load
    counters; a resolved case (not counted) only changes hands.
    """
    transition = decide_or_raise(case, Reassign())
    repo = AssignmentRepository(uow.session)
    new_team = team or case.team or await repo.owning_team(case.category)
    target = await _check_target(repo, team=team, assignee=assignee, new_team=new_team)
    previous_team, previous_assignee = case.team, case.assignee
    if new_team == previous_team and assignee is not None and assignee == previous_assignee:
        raise NoChangeError(
            "The case already has this team and assignee.", title="Nothing to reassign"
        )
    previous_agent = await repo.agent(previous_assignee) if previous_assignee else None
    await repo.lock_teams(
        [previous_team, new_team, previous_agent.team if previous_agent else None]
    )
    active = case.status in ACTIVE
    now = now_utc()
    new_assignee = await _transfer_target(
        repo, case, target=target, new_team=new_team, active=active, at=now
    )
    if new_team == previous_team and new_assignee == previous_assignee:
        raise NoChangeError(
            "Nobody else in the team is free and the case is already in its queue.",
            title="Nothing to reassign",
        )
    if active and previous_assignee is not None:
        await repo.release(previous_assignee)
    case.team, case.assignee = new_team, new_assignee
    case.owner = case.owner or new_assignee
    case.queued_at = now if (active and new_assignee is None) else None
    _record_transfer(
        uow,
        case,
        transition,
        team=new_team,
        actor=actor,
        reason=reason,
        previous=(previous_team, previous_assignee),
        at=now,
    )
    if active and previous_assignee is not None:
        await drain(uow=uow, agent_id=previous_assignee, at=now, exclude={case.complaint_id})


async def _transfer_target(
    repo: AssignmentRepository,
    case: Case,
    *,
    target: Agent | None,
    new_team: str,
    active: bool,
    at: datetime,
) -> str | None:
    """Who takes the transferred case: the named agent if they can (claimed when the case
    is active), else the team's best free agent other than the current one, or nobody (the
    queue). The caller holds the teams' locks."""
    needs = needs_of(case, team=new_team)
    if target is not None:
        problem = transfer_target_problem(snapshot_of(target), needs) if active else None
        if problem is None and active and not await repo.claim(target.id, at=at):
            problem = "at-capacity"
        if problem is not None:
            raise AgentUnavailableError(problem, agent=target.id)
        return target.id
    if active:
        chosen, _ = await _choose_and_claim(
            repo, needs, customer_ref=None, at=at, exclude={case.assignee}
        )
        return chosen
    snapshots = [a for a in await repo.snapshots(new_team) if a.agent_id != case.assignee]
    ranked = rank_agents(snapshots, needs)
    return ranked[0] if ranked else None


def _record_transfer(
    uow: UnitOfWork,
    case: Case,
    transition: Transition,
    *,
    team: str,
    actor: Actor,
    reason: str,
    previous: tuple[str | None, str | None],
    at: datetime,
) -> None:
    """The hand-off's ``complaint.assigned`` event and history entry."""
    previous_team, previous_assignee = previous
    why = masked(reason) or ""
    event = ComplaintAssigned(
        complaint_id=case.complaint_id,
        team=team,
        assignee=case.assignee,
        owner=case.owner,
        actor=actor.id,
        reason=why,
        handoff=True,
        previous_team=previous_team,
        previous_assignee=previous_assignee,
    )
    detail = {
        "team": team,
        "assignee": case.assignee,
        "previous_team": previous_team,
        "previous_assignee": previous_assignee,
        "reason": why,
        "queued": case.queued_at is not None,
    }
    move(uow, case, transition, actor=actor, action="reassigned", event=event, at=at, detail=detail)
