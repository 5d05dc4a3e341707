"""Leads' assignment API: team queues, transfers and agents' availability.

Problems: 403 (a lead outside their team, an agent on someone else's case), 404, 409
``agent-offline`` / ``agent-at-capacity`` / ``agent-not-senior`` / ``no-change`` /
``illegal-transition``, 422 ``unknown-target`` or ``validation``.
"""

from __future__ import annotations

from typing import Annotated

from complaint_runtime.auth import Principal, require_roles
from complaint_runtime.service import runtime_of
from fastapi import APIRouter, Depends, Path, Request

from routing import staffing
from routing.api.assignment_schemas import (
    TEAM_ID,
    USER_ID,
    AgentOut,
    AvailabilityIn,
    QueuedCaseOut,
    QueueOut,
)
from routing.api.auth import StaffDep
from routing.api.cases import ERRORS, hand_off
from routing.api.schemas import CaseOut, ReassignIn

router = APIRouter(tags=["assignment"])

QueueReaderDep = Annotated[Principal, Depends(require_roles("lead", "manager", "admin"))]
AvailabilityDep = Annotated[Principal, Depends(require_roles("agent", "lead", "manager", "admin"))]
TRANSFER_ROLES = frozenset({"agent", "lead", "manager"})


@router.get(
    "/v1/teams/{team}/queue",
    response_model=QueueOut,
    responses=ERRORS,
    summary="The team's waiting cases, longest-waiting first (leads: own team)",
)
async def team_queue(
    team: Annotated[str, Path(pattern=TEAM_ID)], request: Request, caller: QueueReaderDep
) -> QueueOut:
    entries = await staffing.team_queue(
        database=runtime_of(request).database, team=team, principal=caller
    )
    return QueueOut(team=team, cases=[QueuedCaseOut.of(e) for e in entries])


@router.post(
    "/v1/cases/{complaint_id}/transfer",
    response_model=CaseOut,
    responses=ERRORS,
    summary="Transfer to another team and/or agent (lead of the team, manager, assignee)",
)
async def transfer(
    complaint_id: str, request: Request, caller: StaffDep, body: ReassignIn
) -> CaseOut:
    return await hand_off(
        request=request, complaint_id=complaint_id, caller=caller, body=body, roles=TRANSFER_ROLES
    )


@router.put(
    "/v1/agents/{agent_id}/availability",
    response_model=AgentOut,
    responses=ERRORS,
    summary="Online or offline (the agent, their lead, a manager); online drains the queue",
)
async def set_availability(
    agent_id: Annotated[str, Path(pattern=USER_ID)],
    body: AvailabilityIn,
    request: Request,
    caller: AvailabilityDep,
) -> AgentOut:
    agent = await staffing.set_availability(
        database=runtime_of(request).database,
        agent_id=agent_id,
        principal=caller,
        availability=body.availability,
    )
    return AgentOut.of(agent)
