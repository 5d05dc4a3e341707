"""Customers' SMS replies: Alibaba Cloud's ``SmsUp`` HTTP push, and the words that mean
"stop sending me SMS".

The push (上行短信消息, HTTP batch-push mode) is a POST of a JSON **array** of objects
with ``phone_number``, ``content``, ``send_time`` (``YYYY-MM-DD HH:MM:SS``, mainland time),
``dest_code`` (the extension the reply was sent to) and ``sequence_id`` (the provider's id
of the message, unique: our idempotency key); the receiver answers
``{"code": 0, "msg": "接收成功"}``. A malformed push is refused whole
(:class:`MalformedInbound`, whose message names no value from the payload).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Final

MAX_MESSAGES: Final = 1000
MAX_CONTENT: Final = 4000
CHINA_TIME: Final = timezone(timedelta(hours=8))
TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
ACKNOWLEDGEMENT: Final = {"code": 0, "msg": "接收成功"}
# The whole message, case and surrounding blanks aside: the carriers' customary keywords.
UNSUBSCRIBE_WORDS: Final = frozenset({"td", "退订", "stop", "unsubscribe"})


class MalformedInbound(ValueError):
    """The body is not a well-formed ``SmsUp`` push."""


@dataclass(frozen=True)
class InboundSms:
    phone_number: str
    content: str
    sent_at: datetime
    sequence_id: str
    dest_code: str


def is_unsubscribe(content: str) -> bool:
    """ "TD", "退订", "STOP" or "UNSUBSCRIBE" as the whole message."""
    return content.strip().strip("。.!！").lower() in UNSUBSCRIBE_WORDS


def parse_aliyun_sms_up(body: bytes | str) -> tuple[InboundSms, ...]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedInbound("the body is not JSON") from exc
    if not isinstance(data, list) or len(data) > MAX_MESSAGES:
        raise MalformedInbound(f"the body is not a JSON array of at most {MAX_MESSAGES} items")
    return tuple(_message(index, item) for index, item in enumerate(data))


def _message(index: int, item: Any) -> InboundSms:
    where = f"message {index}"
    if not isinstance(item, dict):
        raise MalformedInbound(f"{where} is not an object")
    phone, content = item.get("phone_number"), item.get("content")
    sequence, sent = item.get("sequence_id"), item.get("send_time")
    if not isinstance(phone, str) or not phone.strip():
        raise MalformedInbound(f"{where} has no phone_number")
    if not isinstance(content, str):
        raise MalformedInbound(f"{where} has no content")
    if isinstance(sequence, bool) or not isinstance(sequence, int | str) or sequence == "":
        raise MalformedInbound(f"{where} has no sequence_id")
    try:
        sent_at = datetime.strptime(str(sent), TIME_FORMAT).replace(tzinfo=CHINA_TIME)
    except ValueError as exc:
        raise MalformedInbound(f"{where} has no send_time of the form {TIME_FORMAT}") from exc
    dest = item.get("dest_code")
    return InboundSms(
        phone_number=phone.strip(),
        content=content[:MAX_CONTENT],
        sent_at=sent_at,
        sequence_id=str(sequence)[:100],
        dest_code=dest if isinstance(dest, str) else "",
    )
