"""Internal API for other services (role ``service``): contacts just in time for notify.
Raw contacts leave intake only here, over an authenticated call, never in events."""

from __future__ import annotations

from typing import Annotated

from complaint_runtime.auth import Principal, require_roles
from complaint_runtime.problems import Problem
from complaint_runtime.service import runtime_of
from fastapi import APIRouter, Depends, Request

from intake import service
from intake.api.schemas import ContactCard

router = APIRouter(prefix="/internal/v1", tags=["internal"])


@router.get(
    "/complaints/{complaint_id}/contact",
    response_model=ContactCard,
    summary="The customer's contacts and tracking link, for a notification being sent",
)
async def get_contact(
    complaint_id: str,
    request: Request,
    caller: Annotated[Principal, Depends(require_roles("service"))],
) -> ContactCard:
    card = await service.contact_card(
        database=runtime_of(request).database,
        secrets_=request.app.state.secrets,
        complaint_id=complaint_id[:36],
        public_base_url=request.app.state.settings.public_base_url,
    )
    if card is None:
        raise Problem(404, "Complaint not found", kind="not-found")
    return ContactCard.model_validate(card)
