"""SMS use cases: authenticating the provider's callbacks and recording the delivery receipts
it pushes (``POST /v1/sms/receipts``).

Guarantees: a callback is accepted only with the configured ``NOTIFY_SMS_CALLBACK_TOKEN``
(compared in constant time); a push is parsed whole before anything is written and recorded
all or nothing (one transaction); each receipt lands on the delivery whose
``provider_message_id`` is its ``biz_id`` (the ``BizId`` the provider answered when it took
the SMS); a receipt for an id no delivery holds is counted and ignored (a send by another
system on the same account, or a delivery already pruned); a repeated receipt changes
nothing, so the provider may push again safely.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

import structlog
from complaint_runtime.database import Database
from complaint_runtime.errors import DomainError, NotConfigured, Unauthorized

from notify.sms import metrics
from notify.sms.db import SmsReceiptRepository
from notify.sms.domain.receipts import (
    MalformedReceipt,
    SmsReceipt,
    parse_aliyun_sms_report,
    receipt_error,
    receipt_status,
)

log = structlog.get_logger(__name__)


class MalformedPush(DomainError):
    """The body is not the provider's receipt push (400): the provider may push it again."""

    default_title = "Malformed delivery receipt"
    default_kind = "malformed-receipt"


@dataclass(frozen=True)
class ReceiptTally:
    """What one push did: receipts recorded, repeated (nothing changed) and unknown."""

    recorded: int
    repeated: int
    unknown: int


def authenticate_callback(*, configured: str, given: str | None) -> None:
    """Accept a provider callback only with the configured token: :class:`NotConfigured`
    (503) when none is set, :class:`Unauthorized` (401) when it is missing or wrong. The
    comparison takes the same time wherever the tokens differ."""
    if not configured:
        raise NotConfigured("SMS callbacks are not accepted: NOTIFY_SMS_CALLBACK_TOKEN is not set.")
    if given is None or not hmac.compare_digest(given.encode(), configured.encode()):
        raise Unauthorized(
            "The callback's token is missing or wrong.", challenge='Token realm="sms-callback"'
        )


def parse_push(body: bytes) -> tuple[SmsReceipt, ...]:
    """The receipts of an Alibaba Cloud ``SmsReport`` push; :class:`MalformedPush` naming
    what is wrong (never a value from the body) otherwise."""
    try:
        return parse_aliyun_sms_report(body)
    except MalformedReceipt as exc:
        raise MalformedPush(str(exc)) from exc


async def record_receipts(*, database: Database, receipts: tuple[SmsReceipt, ...]) -> ReceiptTally:
    """Record a parsed push on the delivery log (module docstring)."""
    async with database.unit_of_work() as uow:
        repository = SmsReceiptRepository(uow.session)
        known = await repository.known_message_ids({r.biz_id for r in receipts})
        recorded = repeated = unknown = 0
        for receipt in receipts:
            if receipt.biz_id not in known:
                unknown += 1
                continue
            changed = await repository.record_receipt(
                provider_message_id=receipt.biz_id,
                status=receipt_status(receipt),
                reported_at=receipt.report_time,
                error=receipt_error(receipt),
            )
            if changed:
                recorded += 1
            else:
                repeated += 1
    tally = ReceiptTally(recorded=recorded, repeated=repeated, unknown=unknown)
    for outcome in ("recorded", "repeated", "unknown"):
        if count := getattr(tally, outcome):
            metrics.RECEIPTS.labels(outcome=outcome).inc(count)
    log.info("sms receipts", recorded=recorded, repeated=repeated, unknown=unknown)
    return tally
