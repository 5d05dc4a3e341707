"""Routes of erasure (section 10) and legal holds.

- ``POST /v1/customers/{external_ref}/erasure`` (admin: ``?front_end=`` names whose id it
  is; a front end's key with the ``erasure`` scope: its own customers) and
  ``POST /v1/erasures`` (``{"phone": ...}`` or ``{"email": ...}``): 202 with the erasure
  and a ``Location`` of its status; an unknown customer is a 202 with no complaint;
- ``GET /v1/erasures/{erasure_id}``: admins, auditors, the key's front end that asked;
- ``PUT`` / ``DELETE`` / ``GET /v1/complaints/{complaint_id}/legal-hold`` (admin; GET
  also auditor).

The work is in :mod:`intake.erasure.service` and :mod:`intake.erasure.holds`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from complaint_runtime.auth import Principal, current_principal, require_roles
from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse

from intake.access.api import optional_front_end
from intake.access.domain.callers import FrontEnd
from intake.bootstrap import DependenciesDep
from intake.erasure import holds, service
from intake.erasure.domain.requesters import ERASURE_SCOPE, Requester
from intake.erasure.domain.subjects import contact_subject, external_ref_subject
from intake.erasure.schemas import (
    ComplaintErasure,
    ErasureAccepted,
    ErasureIn,
    ErasureOut,
    LegalHoldIn,
    LegalHoldOut,
)

router = APIRouter(tags=["erasure"])

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
ERRORS: dict[int | str, dict[str, Any]] = dict.fromkeys((401, 403, 404, 422), PROBLEM)


async def requester(
    request: Request,
    front_end: Annotated[FrontEnd | None, Depends(optional_front_end)],
    authorization: Annotated[str | None, Header(max_length=4096)] = None,
) -> Requester:
    """A front end's key (with the ``erasure`` scope, else 403), else a bearer token."""
    if front_end is not None:
        return Requester.of_front_end(
            front_end.name, has_erasure_scope=front_end.has_scope(ERASURE_SCOPE)
        )
    principal = await current_principal(request, authorization)
    return Requester.of_staff(principal.subject, principal.roles)


RequesterDep = Annotated[Requester, Depends(requester)]
AdminDep = Annotated[Principal, Depends(require_roles("admin"))]
ReaderDep = Annotated[Principal, Depends(require_roles("admin", "auditor"))]
ComplaintIdPath = Annotated[str, Path(max_length=36)]

ACCEPTED = (
    "202: the customer's complaints are anonymised in intake (the tracking links stop "
    "working) and `complaint.erasure_requested` is sent for each; the other services "
    "confirm, and the erasure's status (`Location`) turns `completed` when all have. "
    "`complaints` counts the complaints it covers (0 for an unknown customer: still 202); "
    "those under a legal hold are counted in `held` and erased when the hold is released. "
    "A pending erasure of the same customer answers again (`created` false)."
)


def _accepted(summary: service.ErasureSummary) -> JSONResponse:
    url = f"/v1/erasures/{summary.erasure_id}"
    body = ErasureAccepted(
        erasure_id=summary.erasure_id,
        status="completed" if summary.status == "completed" else "pending",
        complaints=summary.complaints,
        held=summary.held,
        requested_at=summary.requested_at,
        created=summary.created,
        status_url=url,
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=202, headers={"Location": url})


@router.post(
    "/v1/customers/{external_ref}/erasure",
    status_code=202,
    response_model=ErasureAccepted,
    responses=ERRORS,
    summary="Erase a customer named by a front end's customer id",
    description=ACCEPTED,
)
async def erase_by_external_ref(
    external_ref: Annotated[str, Path(max_length=100)],
    caller: RequesterDep,
    deps: DependenciesDep,
    front_end: Annotated[
        str | None,
        Query(max_length=100, description="Whose customer id (an admin must name it)"),
    ] = None,
) -> JSONResponse:
    caller.check_may_request()
    subject = external_ref_subject(external_ref, front_end=caller.external_ref_scope(front_end))
    summary = await service.request_erasure(
        database=deps.database,
        secrets_=deps.secrets,
        subject=subject,
        requester=caller,
        now=datetime.now(UTC),
    )
    return _accepted(summary)


@router.post(
    "/v1/erasures",
    status_code=202,
    response_model=ErasureAccepted,
    responses=ERRORS,
    summary="Erase a customer named by phone number or e-mail address",
    description=ACCEPTED + " A key's request covers only its own front end's complaints.",
)
async def erase_by_contact(
    body: ErasureIn, caller: RequesterDep, deps: DependenciesDep
) -> JSONResponse:
    caller.check_may_request()
    subject = contact_subject(phone=body.phone, email=body.email, scope=caller.contact_scope())
    summary = await service.request_erasure(
        database=deps.database,
        secrets_=deps.secrets,
        subject=subject,
        requester=caller,
        now=datetime.now(UTC),
    )
    return _accepted(summary)


@router.get(
    "/v1/erasures/{erasure_id}",
    response_model=ErasureOut,
    responses=ERRORS,
    summary="An erasure's status, with each complaint's confirmations",
)
async def get_erasure(
    erasure_id: Annotated[str, Path(max_length=64)], caller: RequesterDep, deps: DependenciesDep
) -> ErasureOut:
    report = await service.erasure_status(
        database=deps.database, requester=caller, erasure_id=erasure_id
    )
    erasure = report.erasure
    return ErasureOut.model_validate(
        {
            "erasure_id": erasure.id,
            "status": erasure.status,
            "reason": erasure.reason,
            "requested_at": erasure.requested_at,
            "requested_by": erasure.requested_by,
            "completed_at": erasure.completed_at,
            "complaints": len(report.complaints),
            "held_complaints": [c.complaint_id for c in report.complaints if c.held],
            "items": [
                ComplaintErasure(
                    complaint_id=c.complaint_id,
                    held=c.held,
                    erased_at=c.erased_at,
                    confirmations=dict(c.confirmations),
                    awaiting=list(c.awaiting),
                )
                for c in report.complaints
            ],
        }
    )


def _hold_out(answer: holds.HoldAnswer) -> dict[str, Any]:
    hold = answer.hold
    return LegalHoldOut(
        complaint_id=hold.complaint_id,
        active=hold.released_at is None,
        reason=hold.reason,
        placed_by=hold.placed_by,
        placed_at=hold.placed_at,
        released_by=hold.released_by,
        released_at=hold.released_at,
        erasures=list(answer.erasures),
    ).model_dump(mode="json")


@router.put(
    "/v1/complaints/{complaint_id}/legal-hold",
    response_model=LegalHoldOut,
    responses={**ERRORS, 201: {"model": LegalHoldOut, "description": "Placed now"}},
    summary="Place a legal hold: erasure and retention skip the complaint",
    description="201: placed now; 200: a hold was in place already (unchanged).",
)
async def put_legal_hold(
    complaint_id: ComplaintIdPath, body: LegalHoldIn, caller: AdminDep, deps: DependenciesDep
) -> JSONResponse:
    answer = await holds.place_hold(
        database=deps.database,
        complaint_id=complaint_id,
        reason=body.reason,
        actor=caller.subject,
        now=datetime.now(UTC),
    )
    return JSONResponse(_hold_out(answer), status_code=201 if answer.created else 200)


@router.delete(
    "/v1/complaints/{complaint_id}/legal-hold",
    response_model=LegalHoldOut,
    responses=ERRORS,
    summary="Release a legal hold (erasures that waited for it erase the complaint now)",
)
async def delete_legal_hold(
    complaint_id: ComplaintIdPath, caller: AdminDep, deps: DependenciesDep
) -> dict[str, Any]:
    answer = await holds.release_hold(
        database=deps.database,
        secrets_=deps.secrets,
        complaint_id=complaint_id,
        actor=caller.subject,
        now=datetime.now(UTC),
    )
    return _hold_out(answer)


@router.get(
    "/v1/complaints/{complaint_id}/legal-hold",
    response_model=LegalHoldOut,
    responses=ERRORS,
    summary="The complaint's latest legal hold (active or released)",
)
async def get_legal_hold(
    complaint_id: ComplaintIdPath, _caller: ReaderDep, deps: DependenciesDep
) -> dict[str, Any]:
    return _hold_out(await holds.hold_of(database=deps.database, complaint_id=complaint_id))
