"""Delivery receipts: Alibaba Cloud's ``SmsReport`` HTTP push, parsed into records.

The shape is the one the SMS documentation gives for the HTTP batch-push mode ("SmsReport",
回执消息): a POST of ``application/json`` in UTF-8 whose body is a JSON **array** (single and
batch sends alike; one push may carry several reports) of objects with

=============== ======= ==========================================================
``phone_number`` string  the recipient (11 digits for a mainland number)
``send_time``    string  ``YYYY-MM-DD HH:MM:SS``, when it was sent
``report_time``  string  ``YYYY-MM-DD HH:MM:SS``, when the carrier reported
``success``      boolean ``true``: received by the phone, ``false``: not
``err_code``     string  the carrier's status code (``DELIVERED`` on success)
``err_msg``      string  its description
``sms_size``     string  the parts billed (e.g. ``"1"``)
``biz_id``       string  the ``BizId`` ``SendSms`` answered
``out_id``       string  the ``OutId`` we sent (our delivery id)
=============== ======= ==========================================================

The receiver answers ``{"code": 0, "msg": "接收成功"}`` (:data:`ACKNOWLEDGEMENT`). Times are
mainland-China time (UTC+8, no daylight saving) and become aware datetimes. The phone number
is masked at once (``138****5678``): a raw contact never reaches notify's rows (requirements
§10). Parsing is all or nothing: one malformed report refuses the push with
:class:`MalformedReceipt`, whose message names the report and the field but holds no value
from the payload (the caller answers 400; the provider pushes again).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from complaint_contracts.privacy import mask_phone, redact_contacts

TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
MAX_REPORTS: Final = 1000  # one push: Alibaba Cloud batches; anything larger is not a push
MAX_FIELD: Final = 512
ACKNOWLEDGEMENT: Final = {"code": 0, "msg": "接收成功"}
REQUIRED_TEXT: Final = ("phone_number", "send_time", "report_time", "err_code", "biz_id")
# What a delivery records of its receipt (deliveries.receipt_status / receipt_error).
DELIVERED: Final = "delivered"
FAILED: Final = "failed"
MAX_RECEIPT_ERROR: Final = 200


class MalformedReceipt(ValueError):
    """The body is not a well-formed ``SmsReport`` push; the message says what is wrong."""


@dataclass(frozen=True)
class SmsReceipt:
    """One delivery report. ``out_id`` is None when the push carried none (a send that was
    not ours); ``parts`` is None when ``sms_size`` was absent or empty."""

    phone_masked: str
    success: bool
    biz_id: str
    out_id: str | None
    send_time: datetime
    report_time: datetime
    err_code: str
    err_msg: str
    parts: int | None


def parse_aliyun_sms_report(body: bytes | str) -> tuple[SmsReceipt, ...]:
    """The receipts of one push, in its order; :class:`MalformedReceipt` if any is malformed."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedReceipt("the body is not JSON") from exc
    if not isinstance(payload, list):
        raise MalformedReceipt("the body must be a JSON array of reports")
    if not payload:
        raise MalformedReceipt("the array holds no report")
    if len(payload) > MAX_REPORTS:
        raise MalformedReceipt(f"more than {MAX_REPORTS} reports in one push")
    return tuple(_report(index, item) for index, item in enumerate(payload))


def _report(index: int, item: Any) -> SmsReceipt:
    where = f"report {index}"
    if not isinstance(item, dict):
        raise MalformedReceipt(f"{where} is not a JSON object")
    for name in REQUIRED_TEXT:
        if not _text(item, name, where):
            raise MalformedReceipt(f"{where}: {name} is empty")
    success = item.get("success")
    if not isinstance(success, bool):
        raise MalformedReceipt(f"{where}: success must be true or false")
    out_id = _text(item, "out_id", where, required=False)
    return SmsReceipt(
        phone_masked=mask_phone(_text(item, "phone_number", where)),
        success=success,
        biz_id=_text(item, "biz_id", where),
        out_id=out_id or None,
        send_time=_time(item, "send_time", where),
        report_time=_time(item, "report_time", where),
        err_code=_text(item, "err_code", where),
        err_msg=_text(item, "err_msg", where, required=False),
        parts=_parts(item, where),
    )


def _text(item: dict[str, Any], name: str, where: str, *, required: bool = True) -> str:
    value = item.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise MalformedReceipt(f"{where}: {name} must be a string")
    if len(value) > MAX_FIELD:
        raise MalformedReceipt(f"{where}: {name} is longer than {MAX_FIELD} characters")
    return value.strip()


def _time(item: dict[str, Any], name: str, where: str) -> datetime:
    text = _text(item, name, where)
    try:
        return datetime.strptime(f"{text} +0800", f"{TIME_FORMAT} %z")
    except ValueError as exc:
        raise MalformedReceipt(f"{where}: {name} is not YYYY-MM-DD HH:MM:SS") from exc


def _parts(item: dict[str, Any], where: str) -> int | None:
    size = _text(item, "sms_size", where, required=False)
    if not size:
        return None
    if not size.isascii() or not size.isdigit() or int(size) < 1:
        raise MalformedReceipt(f"{where}: sms_size must be a positive whole number")
    return int(size)


def receipt_status(receipt: SmsReceipt) -> str:
    """``delivered`` when the phone received it, else ``failed``."""
    return DELIVERED if receipt.success else FAILED


def receipt_error(receipt: SmsReceipt) -> str | None:
    """A failed receipt's carrier code and text, contacts masked and bounded (it is stored
    and shown in the delivery log); None for a delivered one."""
    if receipt.success:
        return None
    text = f"{receipt.err_code}: {receipt.err_msg}" if receipt.err_msg else receipt.err_code
    return redact_contacts(text)[:MAX_RECEIPT_ERROR]
