"""Routes of the complaints API; the work is in intake.service."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from complaint_runtime.problems import Problem
from complaint_runtime.service import runtime_of
from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from intake import service
from intake.api.auth import FrontEndDep, ViewerDep
from intake.api.schemas import (
    ComplaintAccepted,
    ComplaintIn,
    ComplaintOut,
    CustomerOut,
    HistoryItem,
    MessageAccepted,
    MessageIn,
)
from intake.projection import customer_data, visible_to_customer

router = APIRouter(prefix="/v1/complaints", tags=["complaints"])

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: PROBLEM,
    401: PROBLEM,
    403: PROBLEM,
    413: PROBLEM,
    422: PROBLEM,
    503: PROBLEM,
}


@router.post(
    "",
    status_code=201,
    response_model=ComplaintAccepted,
    responses=ERRORS,
    summary="Post a complaint",
)
async def post_complaint(
    complaint: ComplaintIn,
    request: Request,
    caller: FrontEndDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=200,
            description="Same key and body: the same answer; same key, other body: 422",
        ),
    ] = None,
) -> JSONResponse:
    if not caller.may_post(complaint.channel):
        raise Problem(
            403,
            "Channel not allowed for this API key",
            f"This key may post for {', '.join(caller.channels)}, not {complaint.channel}.",
            kind="channel-not-allowed",
        )
    body_hash = hashlib.sha256(complaint.model_dump_json(exclude_none=False).encode()).hexdigest()
    result = await service.submit_complaint(
        database=runtime_of(request).database,
        secrets_=request.app.state.secrets,
        references=request.app.state.references,
        writer=request.app.state.writer,
        submission=service.Submission(complaint, caller.api_key_id, idempotency_key, body_hash),
        public_base_url=request.app.state.settings.public_base_url,
    )
    headers = {"Location": f"/v1/complaints/{result.body['id']}"}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(result.body, status_code=201, headers=headers)


@router.post(
    "/{complaint_id}/messages",
    status_code=201,
    response_model=MessageAccepted,
    responses={400: PROBLEM, 401: PROBLEM, 404: PROBLEM, 413: PROBLEM, 422: PROBLEM, 503: PROBLEM},
    summary="The customer writes about their complaint (resumes it when it awaits them)",
)
async def post_message(
    complaint_id: str, message: MessageIn, request: Request, caller: ViewerDep
) -> MessageAccepted:
    database = runtime_of(request).database
    found = None
    if len(complaint_id) <= 36:
        found = await service.find_complaint(database=database, complaint_id=complaint_id)
    if found is None or not caller.may_view(found[0].tracking_token_hash):
        raise Problem(404, "Complaint not found", kind="not-found")
    accepted = await service.add_customer_message(
        database=database, complaint_id=complaint_id, message=message
    )
    return MessageAccepted.model_validate(accepted)


@router.get(
    "/{complaint_id}",
    response_model=ComplaintOut,
    responses={401: PROBLEM, 404: PROBLEM, 503: PROBLEM},
    summary="A complaint's status, triage, assignment and history",
)
async def get_complaint(complaint_id: str, request: Request, caller: ViewerDep) -> ComplaintOut:
    found = None
    if len(complaint_id) <= 36:
        found = await service.find_complaint(
            database=runtime_of(request).database, complaint_id=complaint_id
        )
    if found is None or not caller.may_view(found[0].tracking_token_hash):
        raise Problem(404, "Complaint not found", kind="not-found")
    complaint, history = found
    staff = caller.front_end is not None
    return ComplaintOut(
        id=complaint.id,
        reference=complaint.reference,
        status=complaint.status,
        channel=complaint.channel,
        subject=complaint.subject,
        category=complaint.category,
        subcategory=complaint.subcategory,
        priority=complaint.priority,
        emotion=complaint.emotion,
        team=complaint.team,
        assignee=complaint.assignee,
        escalation_level=complaint.escalation_level if staff else None,
        duplicate_of=complaint.duplicate_of if staff else None,
        duplicate_of_reference=complaint.duplicate_of_reference,
        repeat_count=complaint.repeat_count if staff else None,
        received_at=complaint.received_at,
        updated_at=complaint.updated_at,
        customer=CustomerOut(
            customer_ref=complaint.customer_ref,
            masked_phone=complaint.masked_phone,
            masked_email=complaint.masked_email,
            tier=complaint.tier,
            language=complaint.language,
        ),
        history=[
            HistoryItem(
                event_id=h.event_id,
                type=h.event_type,
                source=h.source,
                time=h.occurred_at,
                # A customer sees the steps of their complaint, not the internals (root
                # causes, staff ids, rules, SLA clocks, escalations, deliveries).
                data=h.data if staff else customer_data(h),
            )
            for h in history
            if staff or visible_to_customer(h.event_type)
        ],
    )
