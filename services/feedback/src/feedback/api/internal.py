"""Internal API for notify: the link to put in the message (notify's service token only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, cast

from complaint_runtime.auth import Principal, require_callers
from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from feedback import service
from feedback.api import PROBLEM
from feedback.bootstrap import DependenciesDep
from feedback.domain.links import issue_link_token, survey_url

router = APIRouter(prefix="/internal/v1/confirmation-requests", tags=["internal"])

ERRORS: dict[int | str, dict[str, Any]] = dict.fromkeys((401, 403, 404, 503), PROBLEM)

SentStatus = Literal["pending", "answered", "expired", "superseded", "cancelled"]


class ConfirmationRequestOut(BaseModel):
    request_id: str
    complaint_id: str
    reference: str | None = Field(description="The complaint's reference, when known")
    survey_url: str = Field(
        description=(
            "The signed single-use link to the survey page (JSON for a front end asking "
            "with Accept: application/json); never put it in events"
        )
    )
    expires_at: datetime
    language: Literal["zh-CN", "en"]
    channel: str = Field(description="The customer's preferred channel")
    status: SentStatus
    requested_at: datetime


@router.get(
    "/{request_id}",
    response_model=ConfirmationRequestOut,
    responses=ERRORS,
    summary="A confirmation request with its survey link",
)
async def get_confirmation_request(
    _caller: Annotated[Principal, Depends(require_callers("notify"))],
    request_id: Annotated[str, Path(min_length=1, max_length=36)],
    deps: DependenciesDep,
) -> ConfirmationRequestOut:
    found = await service.sent_request(database=deps.database, request_id=request_id)
    token = issue_link_token(
        secret=deps.link_secret,
        request_id=found.request_id,
        complaint_id=found.complaint_id,
        expires_at=found.expires_at,
        language=found.language,
    )
    return ConfirmationRequestOut(
        request_id=found.request_id,
        complaint_id=found.complaint_id,
        reference=found.reference,
        survey_url=survey_url(deps.settings.public_base_url, token),
        expires_at=found.expires_at,
        language="en" if found.language == "en" else "zh-CN",
        channel=found.channel or "",
        status=cast(SentStatus, found.status),
        requested_at=found.requested_at,
    )
