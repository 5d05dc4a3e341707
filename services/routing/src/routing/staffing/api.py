"""Staffing API. Admins write teams (and the categories they own), agents (skills, level,
capacity, availability), VIP account managers and the load recount; leads and managers
read them. Leads see their team's queue; agents, their lead or a manager set an agent's
availability.

Problems: 401/403 (a lead outside their team, an agent setting someone else's
availability), 404, 422 ``unknown-target`` or ``validation``.
"""

from __future__ import annotations

from typing import Annotated, Any

from complaint_runtime.auth import Principal, require_roles
from fastapi import APIRouter, Depends, Path, Query, Response

from routing.bootstrap import DependenciesDep
from routing.staffing import service
from routing.staffing.schemas import (
    CUSTOMER_REF,
    TEAM_ID,
    USER_ID,
    AccountManagerIn,
    AccountManagerOut,
    AgentIn,
    AgentOut,
    AvailabilityIn,
    LoadCorrection,
    QueuedCaseOut,
    QueueOut,
    ReconcileOut,
    TeamIn,
    TeamOut,
)

admin_router = APIRouter(prefix="/v1/admin", tags=["admin"])
router = APIRouter(tags=["assignment"])

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
ERRORS: dict[int | str, dict[str, Any]] = dict.fromkeys(
    (400, 401, 403, 404, 409, 413, 422, 503), PROBLEM
)
AdminDep = Annotated[Principal, Depends(require_roles("admin"))]
ReaderDep = Annotated[Principal, Depends(require_roles("admin", "lead", "manager"))]
QueueReaderDep = Annotated[Principal, Depends(require_roles("lead", "manager", "admin"))]
AvailabilityDep = Annotated[Principal, Depends(require_roles("agent", "lead", "manager", "admin"))]
TeamPath = Annotated[str, Path(pattern=TEAM_ID)]
AgentPath = Annotated[str, Path(pattern=USER_ID)]
CustomerPath = Annotated[str, Path(pattern=CUSTOMER_REF)]


# -- admin: teams, agents, account managers


@admin_router.get("/teams", response_model=list[TeamOut], responses=ERRORS, summary="Teams")
async def list_teams(deps: DependenciesDep, _caller: ReaderDep) -> list[TeamOut]:
    views = await service.list_teams(database=deps.database)
    return [TeamOut.of(v) for v in views]


@admin_router.put(
    "/teams/{team}",
    response_model=TeamOut,
    responses=ERRORS,
    summary="Create or update a team and the categories it owns",
)
async def put_team(
    team: TeamPath, body: TeamIn, deps: DependenciesDep, caller: AdminDep
) -> TeamOut:
    view = await service.put_team(
        database=deps.database,
        team=team,
        name=body.name,
        categories=list(body.categories),
        actor=caller.subject,
    )
    return TeamOut.of(view)


@admin_router.get("/agents", response_model=list[AgentOut], responses=ERRORS, summary="Agents")
async def list_agents(
    deps: DependenciesDep,
    _caller: ReaderDep,
    team: Annotated[str | None, Query(pattern=TEAM_ID)] = None,
) -> list[AgentOut]:
    agents = await service.list_agents(database=deps.database, team=team)
    return [AgentOut.of(a) for a in agents]


@admin_router.get(
    "/agents/{agent_id}", response_model=AgentOut, responses=ERRORS, summary="An agent"
)
async def get_agent(agent_id: AgentPath, deps: DependenciesDep, _caller: ReaderDep) -> AgentOut:
    agent = await service.get_agent(database=deps.database, agent_id=agent_id)
    return AgentOut.of(agent)


@admin_router.put(
    "/agents/{agent_id}",
    response_model=AgentOut,
    responses=ERRORS,
    summary=(
        "Create or replace an agent: team, level, capacity, skills, availability, display name"
    ),
)
async def put_agent(
    agent_id: AgentPath, body: AgentIn, deps: DependenciesDep, caller: AdminDep
) -> AgentOut:
    fields: dict[str, Any] = body.model_dump()
    agent = await service.put_agent(
        database=deps.database, agent_id=agent_id, fields=fields, actor=caller.subject
    )
    return AgentOut.of(agent)


@admin_router.post(
    "/agents/reconcile-loads",
    response_model=ReconcileOut,
    responses=ERRORS,
    summary="Recount every agent's open cases from the cases and fix the counters",
)
async def reconcile_loads(deps: DependenciesDep, caller: AdminDep) -> ReconcileOut:
    fixed = await service.reconcile_loads(database=deps.database, actor=caller.subject)
    return ReconcileOut(
        corrected=[LoadCorrection(agent_id=i, counter=old, counted=new) for i, old, new in fixed]
    )


@admin_router.get(
    "/account-managers",
    response_model=list[AccountManagerOut],
    responses=ERRORS,
    summary="VIP customers' account managers",
)
async def list_account_managers(
    deps: DependenciesDep, _caller: ReaderDep
) -> list[AccountManagerOut]:
    rows = await service.list_account_managers(database=deps.database)
    return [AccountManagerOut.of(r) for r in rows]


@admin_router.put(
    "/account-managers/{customer_ref}",
    response_model=AccountManagerOut,
    responses=ERRORS,
    summary="Set a VIP customer's account manager",
)
async def put_account_manager(
    customer_ref: CustomerPath, body: AccountManagerIn, deps: DependenciesDep, caller: AdminDep
) -> AccountManagerOut:
    row = await service.put_account_manager(
        database=deps.database,
        customer_ref=customer_ref,
        agent_id=body.agent_id,
        actor=caller.subject,
    )
    return AccountManagerOut.of(row)


@admin_router.delete(
    "/account-managers/{customer_ref}",
    status_code=204,
    responses=ERRORS,
    summary="Remove a VIP customer's account manager",
)
async def delete_account_manager(
    customer_ref: CustomerPath, deps: DependenciesDep, caller: AdminDep
) -> Response:
    await service.delete_account_manager(
        database=deps.database, customer_ref=customer_ref, actor=caller.subject
    )
    return Response(status_code=204)


# -- leads: queues and availability


@router.get(
    "/v1/teams/{team}/queue",
    response_model=QueueOut,
    responses=ERRORS,
    summary="The team's waiting cases, longest-waiting first (leads: own team)",
)
async def team_queue(team: TeamPath, deps: DependenciesDep, caller: QueueReaderDep) -> QueueOut:
    entries = await service.team_queue(database=deps.database, team=team, principal=caller)
    return QueueOut(team=team, cases=[QueuedCaseOut.of(e) for e in entries])


@router.put(
    "/v1/agents/{agent_id}/availability",
    response_model=AgentOut,
    responses=ERRORS,
    summary="Online or offline (the agent, their lead, a manager); online drains the queue",
)
async def set_availability(
    agent_id: AgentPath, body: AvailabilityIn, deps: DependenciesDep, caller: AvailabilityDep
) -> AgentOut:
    agent = await service.set_availability(
        database=deps.database,
        agent_id=agent_id,
        principal=caller,
        availability=body.availability,
    )
    return AgentOut.of(agent)
