"""Bounces: which of notify's messages a delivery status notification (RFC 3464) reports
as permanently undeliverable.

A DSN is ``multipart/report; report-type=delivery-status``. Its second part holds one
block of fields per recipient; a block with ``Action: failed`` and a ``Status`` of class
5 (5.x.x) is a permanent failure. Its third part returns the original message, or only its
headers, whose ``Message-ID`` notify set to ``<delivery_id@opencomplaints>``. A 4.x.x
status (delayed, still trying) suppresses nothing.
"""

from __future__ import annotations

import re
from email.message import Message

MESSAGE_ID = re.compile(r"<([0-9A-Za-z-]{1,36})@opencomplaints>")
_STATUS = re.compile(r"^\s*5\.\d{1,3}\.\d{1,3}\b")


def is_delivery_report(message: Message) -> bool:
    report_type = message.get_param("report-type")
    return (
        message.get_content_type() == "multipart/report"
        and isinstance(report_type, str)
        and report_type.lower() == "delivery-status"
    )


def permanently_failed(message: Message) -> bool:
    """Whether the report says some recipient failed for good (Action failed, 5.x.x)."""
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in _status_blocks(part):
            action = (block.get("Action") or "").strip().lower()
            status = block.get("Status") or ""
            if action == "failed" and _STATUS.match(status):
                return True
    return False


def bounced_delivery_id(message: Message) -> str | None:
    """The delivery a DSN reports as permanently failed; None when it is no DSN, reports
    no permanent failure, or does not return one of notify's Message-IDs."""
    if not is_delivery_report(message) or not permanently_failed(message):
        return None
    for part in message.walk():
        if part.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
            found = _original_message_id(part)
            if found is not None:
                return found
    return None


def _status_blocks(part: Message) -> list[Message]:
    """The field blocks of a ``message/delivery-status`` part (the stdlib parses them as
    a list of header blocks)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    return []


def _original_message_id(part: Message) -> str | None:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        original = inner[0] if isinstance(inner, list) and inner else None
        value = original.get("Message-ID") if isinstance(original, Message) else None
    else:  # text/rfc822-headers: the headers as text
        text = part.get_payload(decode=True)
        raw = text.decode("utf-8", "replace") if isinstance(text, bytes) else ""
        match = re.search(r"^Message-ID:\s*(\S+)", raw, re.IGNORECASE | re.MULTILINE)
        value = match.group(1) if match else None
    matched = MESSAGE_ID.fullmatch(str(value).strip()) if value else None
    return matched.group(1) if matched else None
