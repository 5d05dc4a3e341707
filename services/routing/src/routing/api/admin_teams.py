"""Admin API of the assignment engine: teams and the categories they own, agents (skills,
level, capacity, availability), VIP account managers and the load recount. Admins write;
leads and managers read."""

from __future__ import annotations

from typing import Annotated, Any

from complaint_runtime.auth import Principal, require_roles
from complaint_runtime.service import runtime_of
from fastapi import APIRouter, Depends, Path, Query, Request, Response

from routing import staffing
from routing.api.assignment_schemas import (
    CUSTOMER_REF,
    TEAM_ID,
    USER_ID,
    AccountManagerIn,
    AccountManagerOut,
    AgentIn,
    AgentOut,
    LoadCorrection,
    ReconcileOut,
    TeamIn,
    TeamOut,
)
from routing.api.cases import ERRORS

router = APIRouter(prefix="/v1/admin", tags=["admin"])

AdminDep = Annotated[Principal, Depends(require_roles("admin"))]
ReaderDep = Annotated[Principal, Depends(require_roles("admin", "lead", "manager"))]
TeamPath = Annotated[str, Path(pattern=TEAM_ID)]
AgentPath = Annotated[str, Path(pattern=USER_ID)]
CustomerPath = Annotated[str, Path(pattern=CUSTOMER_REF)]


@router.get("/teams", response_model=list[TeamOut], responses=ERRORS, summary="Teams")
async def list_teams(request: Request, _caller: ReaderDep) -> list[TeamOut]:
    views = await staffing.list_teams(database=runtime_of(request).database)
    return [TeamOut.of(v) for v in views]


@router.put(
    "/teams/{team}",
    response_model=TeamOut,
    responses=ERRORS,
    summary="Create or update a team and the categories it owns",
)
async def put_team(team: TeamPath, body: TeamIn, request: Request, _caller: AdminDep) -> TeamOut:
    view = await staffing.put_team(
        database=runtime_of(request).database,
        team=team,
        name=body.name,
        categories=list(body.categories),
    )
    return TeamOut.of(view)


@router.get("/agents", response_model=list[AgentOut], responses=ERRORS, summary="Agents")
async def list_agents(
    request: Request,
    _caller: ReaderDep,
    team: Annotated[str | None, Query(pattern=TEAM_ID)] = None,
) -> list[AgentOut]:
    agents = await staffing.list_agents(database=runtime_of(request).database, team=team)
    return [AgentOut.of(a) for a in agents]


@router.get("/agents/{agent_id}", response_model=AgentOut, responses=ERRORS, summary="An agent")
async def get_agent(agent_id: AgentPath, request: Request, _caller: ReaderDep) -> AgentOut:
    agent = await staffing.get_agent(database=runtime_of(request).database, agent_id=agent_id)
    return AgentOut.of(agent)


@router.put(
    "/agents/{agent_id}",
    response_model=AgentOut,
    responses=ERRORS,
    summary="Create or replace an agent: team, level, capacity, skills, availability",
)
async def put_agent(
    agent_id: AgentPath, body: AgentIn, request: Request, _caller: AdminDep
) -> AgentOut:
    fields: dict[str, Any] = body.model_dump()
    agent = await staffing.put_agent(
        database=runtime_of(request).database, agent_id=agent_id, fields=fields
    )
    return AgentOut.of(agent)


@router.post(
    "/agents/reconcile-loads",
    response_model=ReconcileOut,
    responses=ERRORS,
    summary="Recount every agent's open cases from the cases and fix the counters",
)
async def reconcile_loads(request: Request, _caller: AdminDep) -> ReconcileOut:
    fixed = await staffing.reconcile_loads(database=runtime_of(request).database)
    return ReconcileOut(
        corrected=[LoadCorrection(agent_id=i, counter=old, counted=new) for i, old, new in fixed]
    )


@router.get(
    "/account-managers",
    response_model=list[AccountManagerOut],
    responses=ERRORS,
    summary="VIP customers' account managers",
)
async def list_account_managers(request: Request, _caller: ReaderDep) -> list[AccountManagerOut]:
    rows = await staffing.list_account_managers(database=runtime_of(request).database)
    return [AccountManagerOut.of(r) for r in rows]


@router.put(
    "/account-managers/{customer_ref}",
    response_model=AccountManagerOut,
    responses=ERRORS,
    summary="Set a VIP customer's account manager",
)
async def put_account_manager(
    customer_ref: CustomerPath, body: AccountManagerIn, request: Request, _caller: AdminDep
) -> AccountManagerOut:
    row = await staffing.put_account_manager(
        database=runtime_of(request).database, customer_ref=customer_ref, agent_id=body.agent_id
    )
    return AccountManagerOut.of(row)


@router.delete(
    "/account-managers/{customer_ref}",
    status_code=204,
    responses=ERRORS,
    summary="Remove a VIP customer's account manager",
)
async def delete_account_manager(
    customer_ref: CustomerPath, request: Request, _caller: AdminDep
) -> Response:
    await staffing.delete_account_manager(
        database=runtime_of(request).database, customer_ref=customer_ref
    )
    return Response(status_code=204)
