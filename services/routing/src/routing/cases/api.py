"""Routing's case commands: the staff commands that move a case, the hand-offs (reassign,
transfer), a supervisor's correction of the triage and a supervisor's request to escalate.
Each answers the case with its history (the escalation request, which sla-watch decides,
answers 202 with the request); the case file and the case lists are
:mod:`routing.casefile.api`.

Every command takes an optional ``If-Match: "<version>"`` (the case's ``version``; every
answer gives it as ``ETag`` too): a case that changed since is refused, unchanged.

Every error is problem+json: 401/403 (auth: agents cannot recategorise or escalate), 404 (unknown
case), 409 ``illegal-transition`` (with ``state`` and ``command``), ``stale-case`` (with
``current_version``, ``expected_version`` and ``changes``), ``no-change``,
``escalation-not-higher`` (with ``level`` and ``current_level``),
``agent-offline`` / ``agent-at-capacity`` / ``agent-not-senior`` (with ``agent``), 422
``closure-guard``, ``unknown-target`` or ``validation`` (also a malformed ``If-Match``).
"""

from __future__ import annotations

from typing import Any

from complaint_runtime.auth import Principal
from fastapi import APIRouter, Response

from routing.auth import LeadDep, StaffDep
from routing.bootstrap import Dependencies, DependenciesDep
from routing.cases import escalation, recategorization, service
from routing.cases.domain.versions import etag
from routing.cases.schemas import (
    AwaitingCustomerIn,
    CaseOut,
    EscalateIn,
    EscalationRequestOut,
    FirstResponseIn,
    IfMatchDep,
    ReassignIn,
    RecategorizeIn,
    ReplyIn,
    ResolveIn,
    with_etag,
)

router = APIRouter(prefix="/v1/cases", tags=["cases"])
# The hand-off endpoint of the assignment API, open to the case's assignee as well.
transfer_router = APIRouter(tags=["assignment"])
TRANSFER_ROLES = frozenset({"agent", "lead", "manager"})

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
ERRORS: dict[int | str, dict[str, Any]] = dict.fromkeys(
    (400, 401, 403, 404, 409, 413, 422, 503), PROBLEM
)


@router.post(
    "/{complaint_id}/first-response",
    response_model=CaseOut,
    responses=ERRORS,
    summary="The first answer to the customer: in_progress, stops the first-response clock",
)
async def first_response(
    complaint_id: str,
    deps: DependenciesDep,
    caller: StaffDep,
    expected: IfMatchDep,
    response: Response,
    body: FirstResponseIn | None = None,
) -> CaseOut:
    body = body or FirstResponseIn()
    view = await service.record_first_response(
        database=deps.database,
        complaint_id=complaint_id,
        principal=caller,
        message=body.message,
        channel=body.channel,
        expected_version=expected,
    )
    return with_etag(response, view)


@router.post(
    "/{complaint_id}/replies",
    response_model=CaseOut,
    responses=ERRORS,
    summary="A later answer to the customer (in_progress)",
)
async def reply(
    complaint_id: str,
    deps: DependenciesDep,
    caller: StaffDep,
    expected: IfMatchDep,
    response: Response,
    body: ReplyIn | None = None,
) -> CaseOut:
    body = body or ReplyIn()
    view = await service.record_reply(
        database=deps.database,
        complaint_id=complaint_id,
        principal=caller,
        message=body.message,
        in_reply_to=body.in_reply_to,
        channel=body.channel,
        expected_version=expected,
    )
    return with_etag(response, view)


@router.post(
    "/{complaint_id}/awaiting-customer",
    response_model=CaseOut,
    responses=ERRORS,
    summary="Wait for the customer: pauses the resolution clock",
)
async def awaiting_customer(
    complaint_id: str,
    deps: DependenciesDep,
    caller: StaffDep,
    expected: IfMatchDep,
    response: Response,
    body: AwaitingCustomerIn,
) -> CaseOut:
    view = await service.await_customer(
        database=deps.database,
        complaint_id=complaint_id,
        principal=caller,
        reason=body.reason,
        expected_version=expected,
    )
    return with_etag(response, view)


@router.post(
    "/{complaint_id}/resume",
    response_model=CaseOut,
    responses=ERRORS,
    summary="Resume work without a customer message (back to in_progress)",
)
async def resume(
    complaint_id: str,
    deps: DependenciesDep,
    caller: StaffDep,
    expected: IfMatchDep,
    response: Response,
) -> CaseOut:
    view = await service.resume(
        database=deps.database,
        complaint_id=complaint_id,
        principal=caller,
        expected_version=expected,
    )
    return with_etag(response, view)


@router.post(
    "/{complaint_id}/resolve",
    response_model=CaseOut,
    responses=ERRORS,
    summary="Resolve: needs solution summary, solution type and root cause (closure guard)",
)
async def resolve(
    complaint_id: str,
    deps: DependenciesDep,
    caller: StaffDep,
    expected: IfMatchDep,
    response: Response,
    body: ResolveIn | None = None,
) -> CaseOut:
    body = body or ResolveIn()
    view = await service.resolve(
        database=deps.database,
        complaint_id=complaint_id,
        principal=caller,
        solution_summary=body.solution_summary,
        solution_type=body.solution_type,
        root_cause=body.root_cause,
        preventive_measure=body.preventive_measure,
        expected_version=expected,
        follow_up=deps.follow_up_window,
    )
    return with_etag(response, view)


@router.post(
    "/{complaint_id}/reassign",
    response_model=CaseOut,
    responses=ERRORS,
    summary="Hand the case to another agent or team (lead or manager)",
)
async def reassign(
    complaint_id: str,
    deps: DependenciesDep,
    caller: LeadDep,
    expected: IfMatchDep,
    response: Response,
    body: ReassignIn,
) -> CaseOut:
    view = await _hand_off(
        deps=deps,
        complaint_id=complaint_id,
        caller=caller,
        body=body,
        roles=service.REASSIGN_ROLES,
        expected=expected,
    )
    return with_etag(response, view)


@transfer_router.post(
    "/v1/cases/{complaint_id}/transfer",
    response_model=CaseOut,
    responses=ERRORS,
    summary="Transfer to another team and/or agent (lead of the team, manager, assignee)",
)
async def transfer(
    complaint_id: str,
    deps: DependenciesDep,
    caller: StaffDep,
    expected: IfMatchDep,
    response: Response,
    body: ReassignIn,
) -> CaseOut:
    view = await _hand_off(
        deps=deps,
        complaint_id=complaint_id,
        caller=caller,
        body=body,
        roles=TRANSFER_ROLES,
        expected=expected,
    )
    return with_etag(response, view)


@router.post(
    "/{complaint_id}/recategorize",
    response_model=CaseOut,
    responses=ERRORS,
    summary="Correct category, sub-category or priority (lead of the team or manager)",
)
async def recategorize(
    complaint_id: str,
    deps: DependenciesDep,
    caller: LeadDep,
    expected: IfMatchDep,
    response: Response,
    body: RecategorizeIn,
) -> CaseOut:
    view = await recategorization.recategorize(
        database=deps.database,
        complaint_id=complaint_id,
        principal=caller,
        reason=body.reason,
        category=body.category,
        subcategory=body.subcategory,
        priority=body.priority,
        expected_version=expected,
    )
    return with_etag(response, view)


@router.post(
    "/{complaint_id}/escalate",
    status_code=202,
    response_model=EscalationRequestOut,
    responses=ERRORS,
    summary=(
        "Ask, with a reason, to escalate to a higher level (lead of the team or manager); "
        "sla-watch raises the level and the person at it is told"
    ),
)
async def escalate(
    complaint_id: str,
    deps: DependenciesDep,
    caller: LeadDep,
    expected: IfMatchDep,
    response: Response,
    body: EscalateIn,
) -> EscalationRequestOut:
    request = await escalation.request_escalation(
        database=deps.database,
        complaint_id=complaint_id,
        principal=caller,
        level=body.level,
        reason=body.reason,
        expected_version=expected,
    )
    response.headers["ETag"] = etag(request.case_version)
    return EscalationRequestOut.of(request)


async def _hand_off(
    *,
    deps: Dependencies,
    complaint_id: str,
    caller: Principal,
    body: ReassignIn,
    roles: frozenset[str],
    expected: int | None,
) -> service.CaseView:
    """The reassign and transfer endpoints' one use case; they differ in who may ask."""
    return await service.reassign(
        database=deps.database,
        complaint_id=complaint_id,
        principal=caller,
        reason=body.reason,
        assignee=body.assignee,
        team=body.team,
        roles=roles,
        expected_version=expected,
    )
