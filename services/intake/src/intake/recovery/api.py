"""Notify reads a lost-link code here (notify's service token only) to send it; the pages that ask
for a code and take it are :mod:`intake.pages.recovery_api`."""

from __future__ import annotations

from typing import Annotated

from complaint_runtime.auth import Principal, require_callers
from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse

from intake.bootstrap import DependenciesDep
from intake.recovery import service
from intake.recovery.schemas import TrackingCodeOut

internal_router = APIRouter(prefix="/internal/v1", tags=["internal"])
Id = Annotated[str, Path(min_length=1, max_length=36)]


@internal_router.get(
    "/complaints/{complaint_id}/tracking-codes/{request_id}",
    response_model=TrackingCodeOut,
    summary="A lost-link code, for the message being sent (readable once, while valid)",
    responses={404: {"description": "Unknown, already read, used, spent or expired"}},
)
async def read_tracking_code(
    complaint_id: Id,
    request_id: Id,
    _caller: Annotated[Principal, Depends(require_callers("notify"))],
    deps: DependenciesDep,
) -> JSONResponse:
    issued = await service.read_code_once(
        database=deps.database,
        secrets_=deps.secrets,
        complaint_id=complaint_id,
        request_id=request_id,
    )
    body = TrackingCodeOut(
        request_id=issued.request_id, code=issued.code, expires_at=issued.expires_at
    )
    return JSONResponse(body.model_dump(mode="json"), headers={"Cache-Control": "no-store"})
