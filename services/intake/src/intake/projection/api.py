"""The complaint's view: ``GET /v1/complaints/{id}`` for a front end (everything) or the
customer holding its tracking token (the steps, not the internals)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from intake.access.api import TOO_MANY, ViewerDep, customer_limit
from intake.bootstrap import DependenciesDep
from intake.projection import service
from intake.projection.schemas import ComplaintOut, complaint_out

router = APIRouter(prefix="/v1/complaints", tags=["complaints"])

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


@router.get(
    "/{complaint_id}",
    response_model=ComplaintOut,
    responses={401: PROBLEM, 404: PROBLEM, 503: PROBLEM, **TOO_MANY},
    dependencies=[Depends(customer_limit("view"))],
    summary="A complaint's status, triage, assignment and history",
)
async def get_complaint(
    complaint_id: str, caller: ViewerDep, deps: DependenciesDep
) -> ComplaintOut:
    view = await service.view_complaint(
        database=deps.database, viewer=caller, complaint_id=complaint_id
    )
    return complaint_out(view)
