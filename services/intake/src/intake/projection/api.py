"""The complaint's view: ``GET /v1/complaints/{id}`` for the customer holding its tracking
token, or a front end whose key reaches it (its own front end's complaint of its channels;
any of its channels with ``complaints:read-all``); both get the customer's view, the steps
without the internals. A complaint out of reach is a 404, as an unknown one."""

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
    description=(
        "The customer's view of the complaint, for its tracking token or a front end's key. A "
        "key reaches the complaints its own front end posted, on its channels (with the "
        "`complaints:read-all` scope: every complaint of its channels); any other complaint "
        "is a 404, as an unknown one."
    ),
)
async def get_complaint(
    complaint_id: str, caller: ViewerDep, deps: DependenciesDep
) -> ComplaintOut:
    view = await service.view_complaint(
        database=deps.database, viewer=caller, complaint_id=complaint_id
    )
    return complaint_out(view)
