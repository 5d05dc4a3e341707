"""Webhook subscriptions and their delivery log, for admins (``/v1/webhooks``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from complaint_contracts.events.common import UUID_PATTERN
from complaint_runtime.auth import Principal, require_roles
from complaint_runtime.errors import NotConfigured
from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from notify.bootstrap import Dependencies, DependenciesDep
from notify.webhooks import service
from notify.webhooks.db import MAX_LOG, WebhookDelivery, WebhookSubscription
from notify.webhooks.domain.destinations import MAX_URL_LENGTH
from notify.webhooks.domain.subscriptions import MAX_DESCRIPTION, MAX_EVENT_FILTERS
from notify.webhooks.loop import Webhooks

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
Admin = Annotated[Principal, Depends(require_roles("admin"))]
SubscriptionId = Annotated[str, Path(pattern=UUID_PATTERN, max_length=36)]
DeliveryStatus = Literal["pending", "sending", "delivered", "failed", "uncertain", "cancelled"]


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=MAX_URL_LENGTH, description="http(s) URL of the receiver")
    events: list[Annotated[str, Field(max_length=120)]] = Field(
        max_length=MAX_EVENT_FILTERS,
        description='Event types ("complaint.assigned" or the full CloudEvents type), or "*"',
    )
    description: str | None = Field(None, max_length=MAX_DESCRIPTION)


class SubscriptionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: bool = Field(description="false: pause (nothing new is recorded); true: resume")


class RotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grace_s: int = Field(
        86400, ge=0, le=7 * 86400, description="How long the old secret keeps signing too"
    )


class BreakerOut(BaseModel):
    state: str = Field(description="closed, open or half_open")
    consecutive_failures: int
    since: datetime | None


class SubscriptionOut(BaseModel):
    id: str
    url: str
    events: list[str]
    active: bool
    description: str | None
    deactivated_reason: str | None = Field(description="Set when notify paused it (410 Gone)")
    previous_secret_until: datetime | None = Field(
        description="Until when the secret before the last rotation still signs"
    )
    breaker: BreakerOut
    created_by: str
    created_at: datetime
    updated_at: datetime


class SubscriptionWithSecret(SubscriptionOut):
    secret: str = Field(description="whsec_...: shown only now; verify signatures with it")


class SubscriptionList(BaseModel):
    subscriptions: list[SubscriptionOut]


class DeliveryOut(BaseModel):
    id: str = Field(description="The webhook-id header: the same on every attempt")
    event_id: str
    event_type: str
    complaint_id: str
    status: DeliveryStatus
    attempts: int
    first_attempt_at: datetime | None
    next_attempt_at: datetime | None = Field(description="Only while pending")
    last_status_code: int | None
    last_latency_ms: int | None
    last_response_body: str | None = Field(description="At most 1 KB, contacts masked")
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class DeliveryList(BaseModel):
    subscription_id: str
    deliveries: list[DeliveryOut]


def _webhooks(deps: Dependencies) -> Webhooks:
    if deps.webhooks is None:
        raise NotConfigured("Webhooks are not set up in this process.")
    return deps.webhooks


def _out(sub: WebhookSubscription) -> SubscriptionOut:
    return SubscriptionOut(
        id=sub.id,
        url=sub.url,
        events=list(sub.events),
        active=sub.active,
        description=sub.description,
        deactivated_reason=sub.deactivated_reason,
        previous_secret_until=sub.previous_secret_until if sub.previous_secret else None,
        breaker=BreakerOut(
            state=sub.breaker_state,
            consecutive_failures=sub.breaker_failures,
            since=sub.breaker_since,
        ),
        created_by=sub.created_by,
        created_at=sub.created_at,
        updated_at=sub.updated_at,
    )


def _with_secret(new: service.NewSecret) -> SubscriptionWithSecret:
    return SubscriptionWithSecret(**_out(new.subscription).model_dump(), secret=str(new.secret))


def _delivery(row: WebhookDelivery) -> DeliveryOut:
    return DeliveryOut(
        id=row.id,
        event_id=row.event_id,
        event_type=row.event_type,
        complaint_id=row.complaint_id,
        status=row.status,
        attempts=row.attempts,
        first_attempt_at=row.first_attempt_at,
        next_attempt_at=row.next_attempt_at if row.status == "pending" else None,
        last_status_code=row.last_status_code,
        last_latency_ms=row.last_latency_ms,
        last_response_body=row.last_response_body,
        last_error=row.last_error,
        created_at=row.created_at,
        updated_at=row.updated_at,
        finished_at=row.finished_at,
    )


@router.post(
    "",
    status_code=201,
    response_model=SubscriptionWithSecret,
    summary="Subscribe a URL to event types",
    description=(
        "The URL must be http(s), without credentials, and resolve to public addresses only "
        "(unless NOTIFY_WEBHOOK_ALLOWED_NETWORKS allows them). The signing secret is in the "
        "answer and nowhere else."
    ),
)
async def create(
    body: SubscriptionIn, principal: Admin, deps: DependenciesDep
) -> SubscriptionWithSecret:
    webhooks = _webhooks(deps)
    new = await service.create_subscription(
        ctx=webhooks.changes,
        url=body.url,
        events=body.events,
        description=body.description,
        created_by=principal.subject,
        policy=webhooks.dispatcher.policy.destinations,
        resolver=webhooks.resolver,
        now=deps.clock(),
    )
    return _with_secret(new)


@router.get("", response_model=SubscriptionList, summary="Every subscription (no secrets)")
async def list_all(_: Admin, deps: DependenciesDep) -> SubscriptionList:
    rows = await service.list_subscriptions(database=deps.database)
    return SubscriptionList(subscriptions=[_out(row) for row in rows])


@router.get("/{subscription_id}", response_model=SubscriptionOut, summary="One subscription")
async def get_one(
    subscription_id: SubscriptionId, _: Admin, deps: DependenciesDep
) -> SubscriptionOut:
    return _out(
        await service.get_subscription(database=deps.database, subscription_id=subscription_id)
    )


@router.patch("/{subscription_id}", response_model=SubscriptionOut, summary="Pause or resume")
async def patch(
    subscription_id: SubscriptionId,
    body: SubscriptionPatch,
    principal: Admin,
    deps: DependenciesDep,
) -> SubscriptionOut:
    sub = await service.set_active(
        ctx=_webhooks(deps).changes,
        subscription_id=subscription_id,
        active=body.active,
        actor=principal.subject,
        now=deps.clock(),
    )
    return _out(sub)


@router.post(
    "/{subscription_id}/rotate",
    response_model=SubscriptionWithSecret,
    summary="A new signing secret; the old one also signs during the grace period",
)
async def rotate(
    subscription_id: SubscriptionId,
    principal: Admin,
    deps: DependenciesDep,
    body: RotateIn | None = None,
) -> SubscriptionWithSecret:
    new = await service.rotate_secret(
        ctx=_webhooks(deps).changes,
        subscription_id=subscription_id,
        grace=timedelta(seconds=(body or RotateIn()).grace_s),
        actor=principal.subject,
        now=deps.clock(),
    )
    return _with_secret(new)


@router.delete("/{subscription_id}", status_code=204, summary="Delete it and its log")
async def remove(
    subscription_id: SubscriptionId, principal: Admin, deps: DependenciesDep
) -> Response:
    await service.delete_subscription(
        ctx=_webhooks(deps).changes, subscription_id=subscription_id, actor=principal.subject
    )
    return Response(status_code=204)


@router.get(
    "/{subscription_id}/deliveries",
    response_model=DeliveryList,
    summary="The delivery log, newest first",
)
async def deliveries(
    subscription_id: SubscriptionId,
    _: Admin,
    deps: DependenciesDep,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LOG)] = 50,
) -> DeliveryList:
    rows = await service.delivery_log(
        database=deps.database, subscription_id=subscription_id, status=status, limit=limit
    )
    return DeliveryList(subscription_id=subscription_id, deliveries=[_delivery(r) for r in rows])


@router.post(
    "/{subscription_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    response_model=DeliveryOut,
    summary="Send a finished delivery again, with the same webhook-id",
)
async def redeliver(
    subscription_id: SubscriptionId,
    delivery_id: Annotated[str, Path(pattern=UUID_PATTERN, max_length=36)],
    principal: Admin,
    deps: DependenciesDep,
) -> DeliveryOut:
    row = await service.redeliver(
        database=deps.database,
        subscription_id=subscription_id,
        delivery_id=delivery_id,
        actor=principal.subject,
        now=deps.clock(),
        wake=_webhooks(deps).dispatcher.wake,
    )
    return _delivery(row)
