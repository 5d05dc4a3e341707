"""Internal API for notify: the link to put in the message (role ``service``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from complaint_runtime.auth import Principal, require_roles
from complaint_runtime.problems import Problem
from complaint_runtime.service import runtime_of
from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from feedback import service
from feedback.api.deps import PROBLEM, link_secret_of, settings_of, survey_url
from feedback.domain.links import issue_link_token

router = APIRouter(prefix="/internal/v1/confirmation-requests", tags=["internal"])

ERRORS: dict[int | str, dict[str, Any]] = dict.fromkeys((401, 403, 404, 503), PROBLEM)


class ConfirmationRequestOut(BaseModel):
    request_id: str
    complaint_id: str
    reference: str | None = Field(description="The complaint's reference, when known")
    survey_url: str = Field(description="The signed single-use link; never put it in events")
    expires_at: datetime
    language: Literal["zh-CN", "en"]
    channel: str = Field(description="The customer's preferred channel")
    status: Literal["pending", "answered", "expired", "superseded", "cancelled"]
    requested_at: datetime


@router.get(
    "/{request_id}",
    response_model=ConfirmationRequestOut,
    responses=ERRORS,
    summary="A confirmation request with its survey link",
)
async def get_confirmation_request(
    request: Request,
    _caller: Annotated[Principal, Depends(require_roles("service"))],
    request_id: Annotated[str, Path(min_length=1, max_length=36)],
) -> ConfirmationRequestOut:
    found = await service.find_request(database=runtime_of(request).database, request_id=request_id)
    if found is None or found.status == "waiting":
        raise Problem(404, "Confirmation request not found", kind="not-found")
    assert found.expires_at is not None
    assert found.requested_at is not None
    token = issue_link_token(
        secret=link_secret_of(request),
        request_id=found.request_id,
        complaint_id=found.complaint_id,
        expires_at=found.expires_at,
    )
    return ConfirmationRequestOut(
        request_id=found.request_id,
        complaint_id=found.complaint_id,
        reference=found.reference,
        survey_url=survey_url(settings_of(request), token),
        expires_at=found.expires_at,
        language="en" if found.language == "en" else "zh-CN",
        channel=found.channel or "",
        status=found.status,
        requested_at=found.requested_at,
    )
