"""The SMS provider's delivery-receipt callback: ``POST /v1/sms/receipts?token=...``.

Public (no staff token: the provider calls it) and authenticated by the
``NOTIFY_SMS_CALLBACK_TOKEN`` the configured callback URL carries. The body is bounded by
the service's ``MAX_BODY_BYTES`` (413 beyond it) and is Alibaba Cloud's ``SmsReport`` push;
the answer is the acknowledgement the provider expects.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from notify.bootstrap import DependenciesDep
from notify.sms import service
from notify.sms.domain.receipts import ACKNOWLEDGEMENT

router = APIRouter(prefix="/v1/sms", tags=["sms"])


class ReceiptAcknowledgement(BaseModel):
    code: int
    msg: str


@router.post(
    "/receipts",
    response_model=ReceiptAcknowledgement,
    summary="SMS delivery receipts pushed by the provider (Alibaba Cloud SmsReport)",
    description=(
        "Configure `{NOTIFY_URL}/v1/sms/receipts?token=<NOTIFY_SMS_CALLBACK_TOKEN>` as the "
        "provider's receipt (SmsReport) HTTP push URL. Each receipt is recorded on the "
        "delivery whose provider message id is its `biz_id`; unknown ids are ignored, a "
        "repeated receipt changes nothing."
    ),
    responses={
        400: {"description": "Not a well-formed SmsReport push"},
        401: {"description": "Token missing or wrong"},
        413: {"description": "Body too large"},
        503: {"description": "NOTIFY_SMS_CALLBACK_TOKEN is not set"},
    },
)
async def receive_receipts(
    request: Request,
    deps: DependenciesDep,
    token: Annotated[str | None, Query(description="NOTIFY_SMS_CALLBACK_TOKEN")] = None,
) -> dict[str, Any]:
    service.authenticate_callback(configured=deps.settings.notify_sms_callback_token, given=token)
    receipts = service.parse_push(await request.body())
    await service.record_receipts(database=deps.database, receipts=receipts)
    return dict(ACKNOWLEDGEMENT)
