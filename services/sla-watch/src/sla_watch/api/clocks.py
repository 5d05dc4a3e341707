"""Read access to a complaint's SLA clocks, for staff desktops and other services."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from complaint_contracts.events.common import UUID_PATTERN
from complaint_runtime.auth import Principal, require_roles
from complaint_runtime.problems import Problem
from complaint_runtime.service import runtime_of
from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from sla_watch.db import Clock, ClockRepository
from sla_watch.domain import clock as rules_of
from sla_watch.domain.calendar import TWENTY_FOUR_SEVEN

router = APIRouter(prefix="/v1/complaints", tags=["clocks"])

Reader = Annotated[Principal, Depends(require_roles("agent", "lead", "manager", "service"))]


class ClockOut(BaseModel):
    clock_id: str
    metric: Literal["first_response", "next_response", "resolution"]
    state: Literal["running", "paused", "stopped"]
    priority: str
    policy_id: str
    calendar_id: str
    target_seconds: int = Field(description="The target in business seconds")
    started_at: datetime
    due_at: datetime = Field(description="The deadline, pauses included")
    paused_at: datetime | None
    stopped_at: datetime | None
    outcome: Literal["met", "breached", "cancelled"] | None
    elapsed_seconds: int = Field(description="Business seconds counted, pauses excluded")
    remaining_seconds: int = Field(
        description="Business seconds left until the deadline; negative once overdue"
    )
    fired_percents: list[int] = Field(description="Warning thresholds already sent")
    breached: bool


class ClocksOut(BaseModel):
    complaint_id: str
    clocks: list[ClockOut]


def _out(clock: Clock, now: datetime) -> ClockOut:
    view = clock.view()
    # Only 24×7 exists yet; with more calendars this becomes a lookup by calendar_id.
    elapsed = rules_of.elapsed_seconds(view, now, calendar=TWENTY_FOUR_SEVEN)
    return ClockOut(
        clock_id=clock.clock_id,
        metric=clock.metric,
        state=clock.state,
        priority=clock.priority,
        policy_id=clock.policy_id,
        calendar_id=clock.calendar_id,
        target_seconds=clock.target_seconds,
        started_at=clock.started_at,
        due_at=clock.due_at,
        paused_at=clock.paused_at,
        stopped_at=clock.stopped_at,
        outcome=clock.outcome,
        elapsed_seconds=elapsed,
        remaining_seconds=clock.target_seconds - elapsed,
        fired_percents=sorted(clock.fired_percents),
        breached=clock.breached,
    )


@router.get(
    "/{complaint_id}/clocks",
    response_model=ClocksOut,
    summary="The SLA clocks of a complaint",
    responses={404: {"description": "No clocks for this complaint (not triaged yet?)"}},
)
async def get_clocks(
    complaint_id: Annotated[str, Path(pattern=UUID_PATTERN, max_length=36)],
    request: Request,
    _principal: Reader,
) -> ClocksOut:
    runtime = runtime_of(request)
    limit: int = request.app.state.settings.sla_api_max_clocks
    async with runtime.database.sessions() as session:
        clocks = await ClockRepository(session).of_complaint(complaint_id.lower(), limit=limit)
    if not clocks:
        raise Problem(
            404,
            "No clocks for this complaint",
            "sla-watch has no clock for this complaint; it may not be triaged yet.",
            kind="not-found",
        )
    now = datetime.now(UTC)
    return ClocksOut(complaint_id=complaint_id, clocks=[_out(c, now) for c in clocks])
