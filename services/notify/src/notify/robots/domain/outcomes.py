"""What a robot vendor's answer means: delivered, try again later, or failed for good.

One pure function, :func:`classify`, over the HTTP status and the body; the adapter adds the
transport failures (:func:`transport_failure`). Rules, in order:

1. HTTP 429 or 5xx → ``retry`` (the vendor or a proxy is overloaded or down).
2. A JSON object with the vendor's result code (WeCom and DingTalk ``errcode``; Feishu
   ``code``, or the older ``StatusCode`` when ``code`` is absent):
   0 → ``ok``; a code in the vendor's retry set → ``retry``; any other → ``failed``.
3. No result code: HTTP 2xx or other 4xx → ``failed`` (``unreadable_answer`` / ``http_<n>``)
   except a 2xx body that is not a JSON object at all, which is ``retry``
   (``unreadable_answer``: what answered was not the vendor, e.g. a proxy's page).

Codes (from the vendors' error tables; "retry" ones are load or rate limits):

* WeCom (global error codes, developer.work.weixin.qq.com/document/path/90313): -1 system
  busy → retry; 45009 "api freq out of limit" (a robot: 20 messages a minute) → retry;
  93000 invalid webhook URL / key → failed; anything else (40008 bad message type, 40058 bad
  field, 44004 empty text …) → failed.
* DingTalk (custom robot doc's error table): -1 system busy, 130101 "send too fast, exceed 20
  times per minute", 410100 "发送速度太快而限流" → retry; 310000 (sign not match,
  timestamp too far, keyword missing, IP not allowed), 300001 / 400101 token does not exist,
  400102 robot disabled, 400106 robot does not exist, 400013 group dissolved, 430101-430104
  unsafe content → failed.
* Feishu (custom bot guide): 11232 frequency limited → retry; 9499 bad request, 19021 sign
  match fail or timestamp not within one hour, 19022 IP not allowed, 19024 key words not
  found → failed.

Unknown non-zero codes are ``failed``: repeating a request the vendor rejected for a reason we
do not know would post nothing but load; the later wiring lists failed notices for an admin.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from notify.robots.domain.notice import Vendor

Kind = Literal["ok", "retry", "failed"]

_RETRY_CODES: dict[Vendor, frozenset[int]] = {
    "wecom": frozenset({-1, 45009}),
    "dingtalk": frozenset({-1, 130101, 410100}),
    "feishu": frozenset({11232}),
}
# Named reasons for the codes the tables above single out; others become "vendor_<code>".
_REASONS: dict[Vendor, dict[int, str]] = {
    "wecom": {-1: "vendor_busy", 45009: "rate_limited", 93000: "bad_key"},
    "dingtalk": {
        -1: "vendor_busy",
        130101: "rate_limited",
        410100: "rate_limited",
        310000: "bad_signature_or_security",
        300001: "bad_token",
        400101: "bad_token",
        400102: "robot_disabled",
        400106: "bad_token",
    },
    "feishu": {
        11232: "rate_limited",
        9499: "bad_payload",
        19021: "bad_signature",
        19022: "ip_not_allowed",
        19024: "keyword_missing",
    },
}
_DETAIL_LIMIT = 200


@dataclass(frozen=True, slots=True)
class RobotOutcome:
    """The result of one send.

    ``reason`` is a stable machine word (``ok``, ``rate_limited``, ``timeout`` …);
    ``vendor_code`` and ``http_status`` are what came back, if anything; ``detail`` is the
    vendor's message, cut to 200 characters (never the URL, which holds the robot's key).
    ``maybe_delivered`` is true when the request may have reached the vendor without an
    answer (a read timeout): a retry may then post the notice twice.
    """

    kind: Kind
    reason: str
    vendor_code: int | None = None
    http_status: int | None = None
    detail: str = ""
    maybe_delivered: bool = False


def classify(vendor: Vendor, *, http_status: int, body: bytes) -> RobotOutcome:
    """The outcome of an answer ``http_status`` with ``body`` from ``vendor`` (rules above)."""
    if http_status == 429 or http_status >= 500:
        reason = "rate_limited" if http_status == 429 else "server_error"
        return RobotOutcome("retry", reason, http_status=http_status)
    try:
        answer = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        answer = None
    code = _result_code(vendor, answer)
    if code is None:
        if 200 <= http_status < 300:
            kind: Kind = "failed" if isinstance(answer, dict) else "retry"
            return RobotOutcome(kind, "unreadable_answer", http_status=http_status)
        return RobotOutcome("failed", f"http_{http_status}", http_status=http_status)
    detail = _detail(answer)
    if code == 0:
        return RobotOutcome("ok", "ok", vendor_code=0, http_status=http_status, detail=detail)
    return RobotOutcome(
        "retry" if code in _RETRY_CODES[vendor] else "failed",
        _REASONS[vendor].get(code, f"vendor_{code}"),
        vendor_code=code,
        http_status=http_status,
        detail=detail,
    )


def transport_failure(*, reason: Literal["timeout", "connection"], sent: bool) -> RobotOutcome:
    """No answer: always ``retry``; ``sent`` says whether the request may have gone out
    (then ``maybe_delivered``)."""
    return RobotOutcome("retry", reason, maybe_delivered=sent)


def _result_code(vendor: Vendor, answer: object) -> int | None:
    if not isinstance(answer, dict):
        return None
    keys = ("code", "StatusCode") if vendor == "feishu" else ("errcode",)
    for key in keys:
        value = answer.get(key)
        # bool is an int subclass; a JSON true is not a result code.
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _detail(answer: object) -> str:
    if not isinstance(answer, dict):
        return ""
    for key in ("errmsg", "msg", "StatusMessage"):
        value = answer.get(key)
        if isinstance(value, str):
            return value[:_DETAIL_LIMIT]
    return ""
