"""The delivery log of a complaint, for leads, managers and other services."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from complaint_contracts.events.common import UUID_PATTERN
from complaint_runtime.auth import Principal, require_roles
from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from notify.bootstrap import DependenciesDep
from notify.deliveries.db import Delivery
from notify.deliveries.domain.delivery_log import MAX_LIST, STATUSES
from notify.deliveries.service import (
    deliveries_of_complaint,
    deliveries_with_status,
    retry_delivery,
    shown_recipient,
)
from notify.teams.service import may_read_log
from notify.webhooks import service as webhooks

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
    recipient: str = Field(
        description="Masked address or phone, team:<team> for a group chat, or the staff "
        "user id before lookup"
    )
    channel: str | None = Field(
        description="email, sms, wecom, dingtalk or lark: the channel chosen (set when "
        "prepared; a customer's may change once a channel refused the message for good)"
    )
    failed_channels: list[str] = Field(
        description="Channels that refused this message for good before the current one"
    )
    provider_message_id: str | None = Field(description="The SMS provider's id for the send")
    receipt_status: str | None = Field(
        description="The SMS delivery receipt: delivered or failed (none yet: unknown)"
    )
    receipt_at: datetime | None
    receipt_error: str | None
    language: str | None
    status: str = Field(
        description="pending, preparing, sending, sent, logged, failed, skipped or uncertain "
        "(uncertain: it may have gone out, it is never repeated)"
    )
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class WebhookDeliveryOut(BaseModel):
    """One event of the complaint sent to one webhook subscription (``notify.webhooks``)."""

    delivery_id: str = Field(description="The webhook-id header, the same on every retry")
    subscription_id: str
    cause_event_id: str
    cause_event_type: str
    channel: str = "webhook"
    status: str = Field(description="pending, sending, delivered, failed, uncertain, cancelled")
    attempts: int
    last_status_code: int | None
    last_latency_ms: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    finished_at: datetime | None


class DeliveryList(BaseModel):
    complaint_id: str
    deliveries: list[DeliveryOut] = Field(
        description="Messages to people: e-mail, SMS, group-chat cards"
    )
    webhooks: list[WebhookDeliveryOut] = Field(
        default_factory=list, description="The complaint's events sent to webhook subscriptions"
    )


@router.get(
    "",
    response_model=DeliveryList,
    summary="Deliveries of one complaint on every channel, in order",
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
    hooks = await webhooks.deliveries_of_complaint(
        database=deps.database, complaint_id=complaint_id, limit=limit
    )
    return DeliveryList(
        complaint_id=complaint_id,
        deliveries=[delivery_out(row) for row in rows],
        webhooks=[
            WebhookDeliveryOut(
                delivery_id=hook.id,
                subscription_id=hook.subscription_id,
                cause_event_id=hook.event_id,
                cause_event_type=hook.event_type,
                status=hook.status,
                attempts=hook.attempts,
                last_status_code=hook.last_status_code,
                last_latency_ms=hook.last_latency_ms,
                last_error=hook.last_error,
                next_attempt_at=hook.next_attempt_at if hook.status == "pending" else None,
                created_at=hook.created_at,
                finished_at=hook.finished_at,
            )
            for hook in hooks
        ],
    )


def delivery_out(row: Delivery) -> DeliveryOut:
    return DeliveryOut(
        delivery_id=row.delivery_id,
        complaint_id=row.complaint_id,
        cause_event_id=row.event_id,
        cause_event_type=row.event_type,
        template=row.template,
        recipient_role=row.recipient_role,
        recipient=shown_recipient(row),
        channel=row.channel,
        failed_channels=list(row.failed_channels or ()),
        provider_message_id=row.provider_message_id,
        receipt_status=row.receipt_status,
        receipt_at=row.receipt_at,
        receipt_error=row.receipt_error,
        language=row.language,
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
        next_attempt_at=row.next_attempt_at if row.status == "pending" else None,
        created_at=row.created_at,
        updated_at=row.updated_at,
        finished_at=row.finished_at,
    )


class StatusList(BaseModel):
    status: str
    deliveries: list[DeliveryOut]


@router.get(
    "/by-status/{status}",
    response_model=StatusList,
    summary="Every delivery in one status (e.g. the failed ones), newest first",
    description=(
        "For administrators: the deliveries that failed for good (or were skipped, or are "
        "uncertain) across complaints, to retry them with `POST /v1/deliveries/{id}/retry`. "
        "`before`: only those updated before this time (paging)."
    ),
)
async def list_by_status(
    _principal: Annotated[Principal, Depends(require_roles("admin"))],
    deps: DependenciesDep,
    status: Annotated[str, PathParam(pattern="^(" + "|".join(STATUSES) + ")$")],
    limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 100,
    before: datetime | None = None,
) -> StatusList:
    rows = await deliveries_with_status(
        database=deps.database, status=status, limit=limit, before=before
    )
    return StatusList(status=status, deliveries=[delivery_out(row) for row in rows])


@router.post(
    "/{delivery_id}/retry",
    response_model=DeliveryOut,
    status_code=202,
    summary="Send a failed or skipped delivery again",
    description=(
        "For administrators: the delivery goes back to pending at once, with a fresh retry "
        "window and every channel tried anew (its id stays, so receivers can drop a "
        "duplicate). 409 for any other status: an uncertain delivery may have reached the "
        "recipient and is never repeated by notify."
    ),
)
async def retry(
    _principal: Annotated[Principal, Depends(require_roles("admin"))],
    deps: DependenciesDep,
    delivery_id: Annotated[str, PathParam(pattern=UUID_PATTERN, max_length=36)],
) -> DeliveryOut:
    row = await retry_delivery(
        database=deps.database, delivery_id=delivery_id.lower(), now=deps.clock()
    )
    deps.delivery_loop.wake()
    return delivery_out(row)
