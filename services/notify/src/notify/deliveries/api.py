"""The delivery log of a complaint, for leads, managers and other services."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from complaint_contracts.events.common import UUID_PATTERN
from complaint_runtime.auth import Principal, require_roles
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from notify.bootstrap import DependenciesDep
from notify.deliveries.domain.delivery_log import MAX_LIST
from notify.deliveries.service import deliveries_of_complaint, shown_recipient
from notify.teams.service import may_read_log

router = APIRouter(prefix="/v1/deliveries", tags=["deliveries"])


class DeliveryOut(BaseModel):
    delivery_id: str = Field(
        description="Also the notification_id of the events and the Message-ID"
    )
    complaint_id: str
    cause_event_id: str
    cause_event_type: str
    template: str
    recipient_role: str
    recipient: str = Field(description="Masked address, or the staff user id before lookup")
    channel: str | None
    language: str | None
    status: str = Field(description="pending, sending, sent, logged, failed, skipped or uncertain")
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class DeliveryList(BaseModel):
    complaint_id: str
    deliveries: list[DeliveryOut]


@router.get(
    "",
    response_model=DeliveryList,
    summary="Deliveries of one complaint, in order",
    description=(
        "Managers and services read every complaint's log; a team lead their own team's "
        "complaints' (the token's `team` claim). Another team's complaint is answered like "
        "one without deliveries."
    ),
)
async def list_deliveries(
    principal: Annotated[Principal, Depends(require_roles("lead", "manager", "service"))],
    deps: DependenciesDep,
    complaint_id: Annotated[str, Query(pattern=UUID_PATTERN, max_length=36)],
    limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 100,
) -> DeliveryList:
    complaint_id = complaint_id.lower()
    if not await may_read_log(
        database=deps.database, principal=principal, complaint_id=complaint_id
    ):
        return DeliveryList(complaint_id=complaint_id, deliveries=[])
    rows = await deliveries_of_complaint(
        database=deps.database, complaint_id=complaint_id, limit=limit
    )
    return DeliveryList(
        complaint_id=complaint_id,
        deliveries=[
            DeliveryOut(
                delivery_id=row.delivery_id,
                complaint_id=row.complaint_id,
                cause_event_id=row.event_id,
                cause_event_type=row.event_type,
                template=row.template,
                recipient_role=row.recipient_role,
                recipient=shown_recipient(row),
                channel=row.channel,
                language=row.language,
                status=row.status,
                attempts=row.attempts,
                last_error=row.last_error,
                next_attempt_at=row.next_attempt_at if row.status == "pending" else None,
                created_at=row.created_at,
                updated_at=row.updated_at,
                finished_at=row.finished_at,
            )
            for row in rows
        ],
    )
