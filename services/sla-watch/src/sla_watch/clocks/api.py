"""Read access to SLA clocks: a complaint's clocks, and the clocks at risk (supervisor view).

Business time is counted under each clock's own calendar, the one its deadline uses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from complaint_contracts.events.common import UUID_PATTERN
from complaint_contracts.vocabulary import Priority
from complaint_runtime.auth import Principal, require_roles
from complaint_runtime.errors import Forbidden
from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from sla_watch.bootstrap import DependenciesDep
from sla_watch.clocks import readings
from sla_watch.clocks.domain.visibility import clocks_seen
from sla_watch.clocks.readings import ClockReading
from sla_watch.db import TEAM_LENGTH

router = APIRouter(tags=["clocks"])

Reader = Annotated[Principal, Depends(require_roles("agent", "lead", "manager", "service"))]
Supervisor = Annotated[Principal, Depends(require_roles("lead", "manager", "admin", "service"))]
MetricName = Literal["first_response", "next_response", "resolution"]
AT_RISK_DEFAULT_LIMIT = 50
AT_RISK_MAX_LIMIT = 500
_UNKNOWN_CALENDAR = "None when the clock's calendar no longer exists"


class PauseOut(BaseModel):
    paused_at: datetime
    resumed_at: datetime | None = Field(description="None while the pause lasts")


class ClockOut(BaseModel):
    clock_id: str
    metric: MetricName
    state: Literal["running", "paused", "stopped"]
    priority: str
    category: str | None
    tier: str | None
    channel: str | None
    team: str | None
    message_id: str | None = Field(description="next_response: the customer message answered")
    policy_id: str
    calendar_id: str
    target_seconds: int = Field(description="The target in business seconds")
    started_at: datetime
    due_at: datetime = Field(description="The deadline, pauses included")
    paused_at: datetime | None
    stopped_at: datetime | None
    outcome: Literal["met", "breached", "cancelled"] | None
    elapsed_seconds: int | None = Field(
        description=f"Business seconds counted, pauses excluded. {_UNKNOWN_CALENDAR}"
    )
    remaining_seconds: int | None = Field(
        description="Business seconds left until the deadline; negative once overdue. "
        + _UNKNOWN_CALENDAR
    )
    pauses: list[PauseOut] = Field(description="The pause history, oldest first")
    fired_percents: list[int] = Field(description="Warning thresholds already sent")
    breached: bool


class ClocksOut(BaseModel):
    complaint_id: str
    escalation_level: int = Field(
        description="0 agent, 1 team lead, 2 manager, 3 senior escalation group"
    )
    clocks: list[ClockOut]


class AtRiskClockOut(BaseModel):
    clock_id: str
    complaint_id: str
    metric: MetricName
    priority: str
    team: str | None
    message_id: str | None
    calendar_id: str
    target_seconds: int
    started_at: datetime
    due_at: datetime
    remaining_seconds: int | None = Field(
        description="Business seconds left; negative when overdue and about to be reported. "
        + _UNKNOWN_CALENDAR
    )
    fired_percents: list[int]


class AtRiskOut(BaseModel):
    clocks: list[AtRiskClockOut] = Field(description="Soonest deadline first")


def _clock_out(reading: ClockReading) -> ClockOut:
    clock = reading.clock
    return ClockOut(
        clock_id=clock.clock_id,
        metric=clock.metric,
        state=clock.state,
        priority=clock.priority,
        category=clock.category,
        tier=clock.tier,
        channel=clock.channel,
        team=clock.team,
        message_id=clock.message_id,
        policy_id=clock.policy_id,
        calendar_id=clock.calendar_id,
        target_seconds=clock.target_seconds,
        started_at=clock.started_at,
        due_at=clock.due_at,
        paused_at=clock.paused_at,
        stopped_at=clock.stopped_at,
        outcome=clock.outcome,
        elapsed_seconds=reading.elapsed_seconds,
        remaining_seconds=reading.remaining_seconds,
        pauses=[PauseOut(paused_at=start, resumed_at=end) for start, end in clock.view().pauses],
        fired_percents=sorted(clock.fired_percents),
        breached=clock.breached,
    )


def _at_risk_out(reading: ClockReading) -> AtRiskClockOut:
    clock = reading.clock
    return AtRiskClockOut(
        clock_id=clock.clock_id,
        complaint_id=clock.complaint_id,
        metric=clock.metric,
        priority=clock.priority,
        team=clock.team,
        message_id=clock.message_id,
        calendar_id=clock.calendar_id,
        target_seconds=clock.target_seconds,
        started_at=clock.started_at,
        due_at=clock.due_at,
        remaining_seconds=reading.remaining_seconds,
        fired_percents=sorted(clock.fired_percents),
    )


@router.get(
    "/v1/complaints/{complaint_id}/clocks",
    response_model=ClocksOut,
    summary="The SLA clocks of a complaint",
    description=(
        "Agents and leads see the clocks of their own team's complaints (the token's `team` "
        "claim); managers and services every complaint's."
    ),
    responses={
        404: {
            "description": "No clocks for this complaint (not triaged yet?), or not the "
            "caller's to see (the same answer)"
        }
    },
)
async def get_clocks(
    complaint_id: Annotated[str, Path(pattern=UUID_PATTERN, max_length=36)],
    deps: DependenciesDep,
    principal: Reader,
) -> ClocksOut:
    found = await readings.complaint_clocks(
        database=deps.database,
        settings=deps.clock_settings,
        complaint_id=complaint_id.lower(),
        limit=deps.settings.sla_api_max_clocks,
        seen_by=clocks_seen(roles=principal.roles, team=principal.team),
    )
    return ClocksOut(
        complaint_id=found.complaint_id,
        escalation_level=found.escalation_level,
        clocks=[_clock_out(reading) for reading in found.clocks],
    )


def _teams_visible(principal: Principal, team: str | None) -> list[str] | None:
    """Which teams the caller may see: a lead only their own team (the token's team claim),
    managers, admins and services any."""
    if principal.has_any("manager", "admin", "service"):
        return None if team is None else [team]
    if principal.team is None:
        raise Forbidden("A team lead's token must carry the team claim to see clocks at risk.")
    if team is not None and team != principal.team:
        raise Forbidden("A team lead sees only the clocks of their own team.")
    return [principal.team]


@router.get(
    "/v1/clocks/at-risk",
    response_model=AtRiskOut,
    summary="Running clocks not breached yet, soonest deadline first (supervisor view)",
)
async def get_at_risk(
    deps: DependenciesDep,
    principal: Supervisor,
    team: Annotated[str | None, Query(min_length=1, max_length=TEAM_LENGTH)] = None,
    priority: Priority | None = None,
    metric: MetricName | None = None,
    limit: Annotated[int, Query(ge=1, le=AT_RISK_MAX_LIMIT)] = AT_RISK_DEFAULT_LIMIT,
) -> AtRiskOut:
    at_risk = await readings.clocks_at_risk(
        database=deps.database,
        settings=deps.clock_settings,
        limit=limit,
        teams=_teams_visible(principal, team),
        priority=priority,
        metric=metric,
    )
    return AtRiskOut(clocks=[_at_risk_out(reading) for reading in at_risk])
