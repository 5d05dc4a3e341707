"""Customers' SMS replies pushed by the provider: ``POST /v1/sms/inbound?token=...``.

Public (the provider calls it) and authenticated like the receipt callback by the
``NOTIFY_SMS_CALLBACK_TOKEN`` the configured URL carries. The body (bounded by the
service's ``MAX_BODY_BYTES``) is Alibaba Cloud's ``SmsUp`` push; it is committed before
the acknowledgement, so the provider pushes again whatever was not answered.
"""

from __future__ import annotations

from typing import Annotated, Any

from complaint_runtime.errors import DomainError, NotConfigured
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from notify.bootstrap import Dependencies, DependenciesDep
from notify.replies import service
from notify.replies.domain.sms import ACKNOWLEDGEMENT, MalformedInbound, parse_aliyun_sms_up
from notify.replies.loop import Replies
from notify.sms.service import authenticate_callback

router = APIRouter(prefix="/v1/sms", tags=["replies"])


class MalformedSmsPush(DomainError):
    """The body is not the provider's inbound push (400): it may push it again."""

    default_title = "Malformed SMS push"
    default_kind = "malformed-sms-push"


def replies_of(deps: Dependencies) -> Replies:
    """The reply machinery; 503 in a hand-built test double without it."""
    if deps.replies is None:
        raise NotConfigured("Replies are not set up in this process.")
    return deps.replies


class InboundAcknowledgement(BaseModel):
    code: int
    msg: str


@router.post(
    "/inbound",
    response_model=InboundAcknowledgement,
    summary="Customers' SMS replies pushed by the provider (Alibaba Cloud SmsUp)",
    description=(
        "Configure `{NOTIFY_URL}/v1/sms/inbound?token=<NOTIFY_SMS_CALLBACK_TOKEN>` as the "
        "provider's inbound (SmsUp) HTTP push URL. A reply joins the complaint of the latest "
        "SMS notify sent to that number (forwarded to intake as the customer's message); "
        "`TD`, `退订`, `STOP` or `UNSUBSCRIBE` alone unsubscribes the number from "
        "non-transactional SMS instead. A number notify never texted is ignored; the same "
        "`sequence_id` again is stored once."
    ),
    responses={
        400: {"description": "Not a well-formed SmsUp push"},
        401: {"description": "Token missing or wrong"},
        413: {"description": "Body too large"},
        503: {"description": "NOTIFY_SMS_CALLBACK_TOKEN is not set"},
    },
)
async def receive_inbound_sms(
    request: Request,
    deps: DependenciesDep,
    token: Annotated[str | None, Query(description="NOTIFY_SMS_CALLBACK_TOKEN")] = None,
) -> dict[str, Any]:
    authenticate_callback(configured=deps.settings.notify_sms_callback_token, given=token)
    try:
        messages = parse_aliyun_sms_up(await request.body())
    except MalformedInbound as exc:
        raise MalformedSmsPush(str(exc)) from exc
    await service.receive_sms(
        database=deps.database,
        hash_key=replies_of(deps).hash_key,
        messages=messages,
        now=deps.clock(),
    )
    replies_of(deps).forwarder.wake()
    return dict(ACKNOWLEDGEMENT)
