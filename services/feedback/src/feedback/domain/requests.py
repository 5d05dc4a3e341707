"""Confirmation requests: where they go, when they expire, what they ask (§7)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from complaint_contracts.vocabulary import Channel, Language, PreferredChannel

COMMENT_MAX_CHARS = 2000

RequestStatus = Literal["waiting", "pending", "answered", "expired", "superseded", "cancelled"]
"""waiting: resolved, but complaint.received (language, channel) not seen yet;
pending: sent, unanswered; answered / expired: the two ends of a sent request;
superseded: a later resolution sent a new request; cancelled: closed for another reason."""


def delivery_channel(
    *,
    preferred: PreferredChannel | None,
    complaint_channel: Channel,
    has_phone: bool,
) -> PreferredChannel:
    """The customer's preferred channel; else the one they complained on, except that a
    phone complaint gets a text message: a survey link cannot be read out on a call."""
    if preferred is not None:
        return preferred
    if complaint_channel == "phone":
        return "sms" if has_phone else "phone"
    return complaint_channel


def expiry(*, requested_at: datetime, auto_close_s: float) -> datetime:
    """Whole seconds, because the link's ``exp`` claim has no fraction: the link and the
    auto-close then agree to the second."""
    return (requested_at + timedelta(seconds=auto_close_s)).replace(microsecond=0)


@dataclass(frozen=True)
class Question:
    id: Literal["solved", "csat", "comment"]
    kind: Literal["boolean", "scale", "text"]
    text: str
    required: bool
    min: int | None = None
    max: int | None = None
    max_length: int | None = None


_TEXTS: dict[Language, dict[str, str]] = {
    "zh-CN": {
        "solved": "您的投诉问题是否已经解决？",
        "csat": "您对本次处理的满意度如何？（1 = 非常不满意，5 = 非常满意）",
        "comment": "还有什么想告诉我们的吗？（选填）",
    },
    "en": {
        "solved": "Is your complaint solved?",
        "csat": "How satisfied are you with how it was handled? (1 = very dissatisfied, "
        "5 = very satisfied)",
        "comment": "Anything else you would like to tell us? (optional)",
    },
}


def questions(language: Language) -> tuple[Question, ...]:
    texts = _TEXTS[language]
    return (
        Question("solved", "boolean", texts["solved"], required=True),
        Question("csat", "scale", texts["csat"], required=True, min=1, max=5),
        Question("comment", "text", texts["comment"], required=False, max_length=COMMENT_MAX_CHARS),
    )
