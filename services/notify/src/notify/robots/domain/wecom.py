"""WeCom (企业微信) group robot: the markdown message and its request.

Spec: WeCom developer documentation, "群机器人配置说明" (developer.work.weixin.qq.com,
document/path/91770). A robot is addressed by its webhook URL
``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=<key>``; the key in the URL is the
only credential (WeCom robots have no signature). The message is a JSON POST::

    {"msgtype": "markdown", "markdown": {"content": "<markdown, at most 4096 bytes UTF-8>"}}

and the answer is ``{"errcode": 0, "errmsg": "ok"}`` on success. Each robot takes at most
20 messages a minute (over it: errcode 45009).

Rendering: a coloured severity line (``<font color="warning|comment|info">``, the three
colours the dialect has), the title as a level-2 heading, the lines, and the link last. Data
is neutralised (see ``notice.neutralise``). The content is kept within 4096 bytes by
truncating the title-and-lines part (never a multi-byte character split, ending with "…")
so the link to the case always survives whole.
"""

from __future__ import annotations

from urllib.parse import urlencode

from notify.robots.domain.notice import (
    RobotRequest,
    Severity,
    StaffNotice,
    link_target,
    neutralise,
    truncate_utf8,
)

WECOM_SEND_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
CONTENT_LIMIT_BYTES = 4096

# WeCom markdown knows three font colours: info (green), comment (grey), warning (orange).
_COLOURS: dict[Severity, str] = {"info": "info", "warning": "comment", "critical": "warning"}


def webhook_url(key: str) -> str:
    """The robot's webhook URL for ``key`` (the key percent-encoded)."""
    return f"{WECOM_SEND_URL}?{urlencode({'key': key})}"


def render(notice: StaffNotice) -> str:
    """The markdown content for ``notice``: at most ``CONTENT_LIMIT_BYTES`` bytes in UTF-8,
    ending with the whole link line; data shown neutralised, never as markup."""
    head = f'<font color="{_COLOURS[notice.severity]}">{notice.severity_label}</font>'
    body = "\n".join(
        [f"## {neutralise(notice.title)}", *(neutralise(line) for line in notice.lines)]
    )
    tail = f"[{notice.link_label}]({link_target(notice.case_url)})"
    fixed = len(f"{head}\n\n{tail}".encode())
    return f"{head}\n{truncate_utf8(body, CONTENT_LIMIT_BYTES - fixed)}\n{tail}"


def build_request(url: str, notice: StaffNotice) -> RobotRequest:
    """The POST to the robot's webhook ``url`` (as WeCom gave it, key included) carrying
    ``render(notice)`` as a markdown message."""
    return RobotRequest(
        vendor="wecom",
        url=url,
        body={"msgtype": "markdown", "markdown": {"content": render(notice)}},
    )
