"""The NPS programme's internal API (not for customers):

- ``GET /internal/v1/nps/requests/{request_id}`` (notify's service token only): the request
  with its link and the "don't ask me again" link, fetched just before the invitation is
  sent and never stored;
- ``POST /internal/v1/nps/rounds`` (role ``admin``; no service opens rounds): open a
  round now, for a period an operator names (``start``/``end``, e.g. a month missed
  during an outage) or, without a body, the schedule's latest ended period; the loop
  works through it (202). A window that is exactly a scheduled period is that period (its
  key); one covering part of a scheduled period is refused (409);
- ``GET /internal/v1/nps/rounds/{period}`` (role ``admin``): how far a round got.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from complaint_runtime.auth import Principal, require_callers, require_roles
from fastapi import APIRouter, Body, Depends, Path
from pydantic import BaseModel, ConfigDict, Field

from feedback.api import PROBLEM
from feedback.bootstrap import DependenciesDep
from feedback.domain.links import NPS_AUDIENCE, issue_link_token, nps_url
from feedback.nps import rounds, service

router = APIRouter(prefix="/internal/v1/nps", tags=["internal"])
ERRORS: dict[int | str, dict[str, Any]] = dict.fromkeys((401, 403, 404, 409, 422, 503), PROBLEM)
OPT_OUT_ANCHOR = "#opt-out"


class NpsRequestOut(BaseModel):
    request_id: str
    complaint_id: str = Field(description="The complaint the customer's contacts are found by")
    period: str
    nps_url: str = Field(description="The signed link to the NPS page; never put it in events")
    opt_out_url: str = Field(description="The same page, at its 'don't ask me again' section")
    expires_at: datetime
    language: Literal["zh-CN", "en"]
    channel: str
    status: Literal["pending", "answered", "expired"]
    requested_at: datetime


class RoundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: datetime | None = Field(None, description="The period's start (with its offset)")
    end: datetime | None = Field(None, description="The period's end, excluded")


class RoundOut(BaseModel):
    period: str
    status: str
    trigger: str
    customers_seen: int
    requests_created: int
    period_start: datetime
    period_end: datetime


@router.get(
    "/requests/{request_id}",
    response_model=NpsRequestOut,
    responses=ERRORS,
    summary="An NPS request with its link",
)
async def get_nps_request(
    _caller: Annotated[Principal, Depends(require_callers("notify"))],
    request_id: Annotated[str, Path(min_length=1, max_length=36)],
    deps: DependenciesDep,
) -> NpsRequestOut:
    found = await service.sent_request(database=deps.database, request_id=request_id)
    token = issue_link_token(
        secret=deps.link_secret,
        request_id=found.request_id,
        complaint_id=found.complaint_id,
        expires_at=found.expires_at,
        audience=NPS_AUDIENCE,
        language=found.language,
    )
    url = nps_url(deps.settings.public_base_url, token)
    return NpsRequestOut(
        request_id=found.request_id,
        complaint_id=found.complaint_id,
        period=found.period,
        nps_url=url,
        opt_out_url=f"{url}{OPT_OUT_ANCHOR}",
        expires_at=found.expires_at,
        language=found.language,
        channel=found.channel,
        status=found.status,
        requested_at=found.requested_at,
    )


@router.post(
    "/rounds",
    response_model=RoundOut,
    status_code=202,
    responses=ERRORS,
    summary="Open an NPS round now (operators; tests)",
)
async def open_round(
    _caller: Annotated[Principal, Depends(require_roles("admin"))],
    deps: DependenciesDep,
    body: Annotated[RoundIn | None, Body()] = None,
) -> RoundOut:
    period = await rounds.open_requested_round(
        database=deps.database,
        nps=deps.nps_settings,
        start=body.start if body else None,
        end=body.end if body else None,
    )
    deps.nps_loop.wake()
    return RoundOut(**vars(await service.round_status(database=deps.database, period=period)))


@router.get(
    "/rounds/{period:path}",
    response_model=RoundOut,
    responses=ERRORS,
    summary="How far an NPS round got",
)
async def get_round(
    _caller: Annotated[Principal, Depends(require_roles("admin"))],
    period: str,
    deps: DependenciesDep,
) -> RoundOut:
    return RoundOut(**vars(await service.round_status(database=deps.database, period=period)))
