"""Feishu / Lark custom bot (自定义机器人): the signature, the card or text message, the request.

Spec: Feishu Open Platform, "自定义机器人使用指南" (open.feishu.cn / open.larksuite.com,
document/client-docs/bot-v3/add-custom-bot) and the card JSON 1.0 "富文本组件" (markdown
element). The bot's webhook is ``https://open.feishu.cn/open-apis/bot/v2/hook/<token>``
(Lark: ``open.larksuite.com``); the request goes to it as given.

With "签名校验" on, the body carries ``timestamp`` (seconds since the epoch, as a string; at
most one hour from Feishu's clock, else code 19021) and ``sign``: base64 of HMAC-SHA256
*keyed by* ``f"{timestamp}\\n{secret}"`` over an *empty* message (unlike DingTalk, where the
secret is the key and that string the message).

Messages built here::

    {"timestamp": "...", "sign": "...", "msg_type": "interactive",
     "card": {"header": {"title": {"tag": "plain_text", "content": <title>},
                         "template": <colour>},
              "elements": [{"tag": "markdown", "content": <markdown>}]}}

or ``{"msg_type": "text", "content": {"text": <plain text>}}`` (same timestamp and sign).
The header title is plain text (shown as is); the markdown has data as HTML character
references (see ``notice.html_escape_markdown``); the text form has ``<`` and ``>`` as
look-alikes, since text messages parse ``<at user_id="all">`` (``notice.without_tags``).

Success is ``{"code": 0, ...}`` (older answers: ``{"StatusCode": 0}``). The request body may
not exceed 20 KB, which a staff notice of a title, a few lines and a link stays far below.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Literal

from notify.robots.domain.notice import (
    JsonValue,
    RobotRequest,
    Severity,
    StaffNotice,
    html_escape_markdown,
    link_target,
    one_line,
    without_tags,
)

MAX_CLOCK_SKEW_S = 3600
MessageKind = Literal["card", "text"]

# Card header templates (colours) from the card documentation.
_TEMPLATES: dict[Severity, str] = {"info": "blue", "warning": "orange", "critical": "red"}


def sign(secret: str, timestamp_s: int) -> str:
    """Feishu's signature: base64 of HMAC-SHA256 keyed by ``f"{timestamp_s}\\n{secret}"``
    (UTF-8) over the empty message."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def render_card(notice: StaffNotice) -> dict[str, JsonValue]:
    """The interactive card for ``notice``: a header with the plain title in the severity's
    colour, and one markdown element (severity, the lines, the link); data shown literally."""
    markdown = "\n".join(
        [
            f"**{html_escape_markdown(notice.severity_label)}**",
            *(html_escape_markdown(line) for line in notice.lines),
            f"[{notice.link_label}]({link_target(notice.case_url)})",
        ]
    )
    return {
        "header": {
            "title": {"tag": "plain_text", "content": one_line(notice.title)},
            "template": _TEMPLATES[notice.severity],
        },
        "elements": [{"tag": "markdown", "content": markdown}],
    }


def render_text(notice: StaffNotice) -> str:
    """The plain-text form: ``[severity] title``, the lines, the link, one per line; data
    cannot form tags (no ``<at>`` mention of everyone)."""
    return "\n".join(
        [
            f"[{notice.severity_label}] {without_tags(notice.title)}",
            *(without_tags(line) for line in notice.lines),
            f"{notice.link_label}: {notice.case_url}",
        ]
    )


def build_request(
    url: str,
    notice: StaffNotice,
    *,
    secret: str | None,
    timestamp_s: int,
    kind: MessageKind = "card",
) -> RobotRequest:
    """The POST to the bot's webhook ``url``: a card (default) or a text message, signed for
    ``timestamp_s`` (the caller's current time, see ``MAX_CLOCK_SKEW_S``) when the bot has a
    ``secret``; without one no ``timestamp``/``sign`` fields are sent."""
    body: dict[str, JsonValue] = {}
    if secret is not None:
        body |= {"timestamp": str(timestamp_s), "sign": sign(secret, timestamp_s)}
    if kind == "card":
        body |= {"msg_type": "interactive", "card": render_card(notice)}
    else:
        body |= {"msg_type": "text", "content": {"text": render_text(notice)}}
    return RobotRequest(vendor="feishu", url=url, body=body)
