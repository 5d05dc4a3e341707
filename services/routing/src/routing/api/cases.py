"""Routing's case API: read a case with its history, and the staff commands that move it.

Every error is problem+json: 401/403 (auth), 404 (unknown case), 409 ``illegal-transition``
(with ``state`` and ``command``), 422 ``closure-guard`` or ``validation``.
"""

from __future__ import annotations

from typing import Any

from complaint_runtime.auth import Principal
from complaint_runtime.service import runtime_of
from fastapi import APIRouter, Request

from routing import handling
from routing.api.auth import LeadDep, ReaderDep, StaffDep
from routing.api.schemas import (
    AwaitingCustomerIn,
    CaseOut,
    FirstResponseIn,
    ReassignIn,
    ReplyIn,
    ResolveIn,
)

router = APIRouter(prefix="/v1/cases", tags=["cases"])

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
ERRORS: dict[int | str, dict[str, Any]] = dict.fromkeys(
    (400, 401, 403, 404, 409, 413, 422, 503), PROBLEM
)


@router.get(
    "/{complaint_id}",
    response_model=CaseOut,
    responses=ERRORS,
    summary="A case: status, triage, owner, assignee, resolution and history",
)
async def get_case(complaint_id: str, request: Request, _caller: ReaderDep) -> CaseOut:
    view = await handling.view_case(
        database=runtime_of(request).database, complaint_id=complaint_id
    )
    return CaseOut.of(view)


@router.post(
    "/{complaint_id}/first-response",
    response_model=CaseOut,
    responses=ERRORS,
    summary="The first answer to the customer: in_progress, stops the first-response clock",
)
async def first_response(
    complaint_id: str, request: Request, caller: StaffDep, body: FirstResponseIn | None = None
) -> CaseOut:
    body = body or FirstResponseIn()
    view = await handling.record_first_response(
        database=runtime_of(request).database,
        complaint_id=complaint_id,
        principal=caller,
        message=body.message,
        channel=body.channel,
    )
    return CaseOut.of(view)


@router.post(
    "/{complaint_id}/replies",
    response_model=CaseOut,
    responses=ERRORS,
    summary="A later answer to the customer (in_progress)",
)
async def reply(
    complaint_id: str, request: Request, caller: StaffDep, body: ReplyIn | None = None
) -> CaseOut:
    body = body or ReplyIn()
    view = await handling.record_reply(
        database=runtime_of(request).database,
        complaint_id=complaint_id,
        principal=caller,
        message=body.message,
        in_reply_to=body.in_reply_to,
        channel=body.channel,
    )
    return CaseOut.of(view)


@router.post(
    "/{complaint_id}/awaiting-customer",
    response_model=CaseOut,
    responses=ERRORS,
    summary="Wait for the customer: pauses the resolution clock",
)
async def awaiting_customer(
    complaint_id: str, request: Request, caller: StaffDep, body: AwaitingCustomerIn
) -> CaseOut:
    view = await handling.await_customer(
        database=runtime_of(request).database,
        complaint_id=complaint_id,
        principal=caller,
        reason=body.reason,
    )
    return CaseOut.of(view)


@router.post(
    "/{complaint_id}/resume",
    response_model=CaseOut,
    responses=ERRORS,
    summary="Resume work without a customer message (back to in_progress)",
)
async def resume(complaint_id: str, request: Request, caller: StaffDep) -> CaseOut:
    view = await handling.resume(
        database=runtime_of(request).database, complaint_id=complaint_id, principal=caller
    )
    return CaseOut.of(view)


@router.post(
    "/{complaint_id}/resolve",
    response_model=CaseOut,
    responses=ERRORS,
    summary="Resolve: needs solution summary, solution type and root cause (closure guard)",
)
async def resolve(
    complaint_id: str, request: Request, caller: StaffDep, body: ResolveIn | None = None
) -> CaseOut:
    body = body or ResolveIn()
    view = await handling.resolve(
        database=runtime_of(request).database,
        complaint_id=complaint_id,
        principal=caller,
        solution_summary=body.solution_summary,
        solution_type=body.solution_type,
        root_cause=body.root_cause,
        preventive_measure=body.preventive_measure,
    )
    return CaseOut.of(view)


@router.post(
    "/{complaint_id}/reassign",
    response_model=CaseOut,
    responses=ERRORS,
    summary="Hand the case to another agent or team (lead or manager)",
)
async def reassign(
    complaint_id: str, request: Request, caller: LeadDep, body: ReassignIn
) -> CaseOut:
    return await hand_off(
        request=request,
        complaint_id=complaint_id,
        caller=caller,
        body=body,
        roles=handling.REASSIGN_ROLES,
    )


async def hand_off(
    *,
    request: Request,
    complaint_id: str,
    caller: Principal,
    body: ReassignIn,
    roles: frozenset[str],
) -> CaseOut:
    """The reassign and transfer endpoints' one use case; they differ in who may ask."""
    view = await handling.reassign(
        database=runtime_of(request).database,
        complaint_id=complaint_id,
        principal=caller,
        reason=body.reason,
        assignee=body.assignee,
        team=body.team,
        roles=roles,
    )
    return CaseOut.of(view)
