"""``POST /v1/cases/{id}/contact/reveal``: a customer's raw contact for a lead of the case's
team or a manager, with a reason; the case's history records the reveal (never the values).

A POST, not a GET: it has an effect (the audit entry) and a body (the reason), and no
cache or prefetch may replay it. The answer carries ``Cache-Control: no-store``. Problems:
401, 403 (an agent; a lead on another team's case assigned to them), 404 (a case the
caller may not see, or a complaint intake does not know), 422 (reason empty or over 500
characters), 503 ``unavailable`` (intake down or too slow; nothing was revealed).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from routing.auth import LeadDep
from routing.bootstrap import DependenciesDep
from routing.contacts import service
from routing.contacts.schemas import ContactOut, RevealIn

router = APIRouter(prefix="/v1/cases", tags=["cases"])

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
ERRORS: dict[int | str, dict[str, Any]] = dict.fromkeys(
    (400, 401, 403, 404, 413, 422, 503), PROBLEM
)


@router.post(
    "/{complaint_id}/contact/reveal",
    response_model=ContactOut,
    responses=ERRORS,
    summary="Reveal the customer's raw contact (lead or manager, with a reason; audited)",
)
async def reveal(
    complaint_id: str, deps: DependenciesDep, caller: LeadDep, response: Response, body: RevealIn
) -> ContactOut:
    contact = await service.reveal_contact(
        database=deps.database,
        intake=deps.intake,
        complaint_id=complaint_id,
        principal=caller,
        reason=body.reason,
    )
    response.headers["Cache-Control"] = "no-store"
    return ContactOut(
        name=contact.name,
        email=contact.email,
        phone=contact.phone,
        preferred_channel=contact.preferred_channel,
    )
