"""DingTalk (钉钉) custom robot: the signed URL, the markdown message and its request.

Spec: DingTalk Open Platform, "自定义机器人接入" / "自定义机器人安全设置" (加签) and
"自定义机器人发送群消息" (open.dingtalk.com). The robot's webhook is
``https://oapi.dingtalk.com/robot/send?access_token=<token>``. With the "加签" security
setting every request adds two query parameters:

* ``timestamp``: the current time in milliseconds since the epoch; DingTalk refuses a
  timestamp more than one hour away from its own clock (errcode 310000), so the sending host
  needs a synchronised clock (NTP) and a request must not be built long before it is sent;
* ``sign``: ``urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")))``,
  both strings UTF-8.

The message is a JSON POST ``{"msgtype": "markdown", "markdown": {"title": ..., "text": ...}}``
where ``title`` is the plain preview shown in the chat list and ``text`` the markdown.
Success is ``{"errcode": 0, "errmsg": "ok"}``; a robot takes at most 20 messages a minute.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from notify.robots.domain.notice import (
    RobotRequest,
    StaffNotice,
    link_target,
    neutralise,
    one_line,
)

DINGTALK_SEND_URL = "https://oapi.dingtalk.com/robot/send"
# How far DingTalk lets the timestamp be from its clock (documented: one hour).
MAX_CLOCK_SKEW_MS = 3_600_000


def sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature, before URL-encoding: base64 of HMAC-SHA256 keyed by ``secret``
    over ``f"{timestamp_ms}\\n{secret}"`` (UTF-8)."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def signed_url(url: str, *, secret: str | None, timestamp_ms: int) -> str:
    """The robot's webhook ``url`` (access_token included) with ``timestamp`` and ``sign``
    added, both URL-encoded (base64's ``+``, ``/`` and ``=`` escaped); any ``timestamp`` or
    ``sign`` already in ``url`` is replaced. Without a ``secret`` (a robot secured by keywords
    or an IP list instead) ``url`` is returned unchanged."""
    if secret is None:
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("timestamp", "sign")]
    query += [("timestamp", str(timestamp_ms)), ("sign", sign(secret, timestamp_ms))]
    return urlunsplit(parts._replace(query=urlencode(query)))


def render(notice: StaffNotice) -> tuple[str, str]:
    """``(title, text)`` for ``notice``: the plain one-line preview title and the markdown
    (severity and title as a heading, the lines, the link last); data neutralised."""
    title = f"[{notice.severity_label}] {one_line(notice.title)}"
    text = "\n\n".join(
        [
            f"### {neutralise(notice.severity_label)} · {neutralise(notice.title)}",
            *(neutralise(line) for line in notice.lines),
            f"[{notice.link_label}]({link_target(notice.case_url)})",
        ]
    )
    return title, text


def build_request(
    url: str, notice: StaffNotice, *, secret: str | None, timestamp_ms: int
) -> RobotRequest:
    """The POST to the robot's webhook ``url``, signed for ``timestamp_ms`` (the caller's
    current time, see ``MAX_CLOCK_SKEW_MS``), carrying ``render(notice)`` as markdown."""
    title, text = render(notice)
    return RobotRequest(
        vendor="dingtalk",
        url=signed_url(url, secret=secret, timestamp_ms=timestamp_ms),
        body={"msgtype": "markdown", "markdown": {"title": title, "text": text}},
    )
