"""The words of a customer's reply: its own text, without the quoted history.

A reply carries the whole notification below it; only what the customer wrote becomes a
message on the complaint. The text/plain part is taken (else the HTML part, tags
stripped), then everything from the first marker of quoted history on is dropped: lines
starting with ``>``, an attribution line ("On … wrote:", "在 … 写道："), a forwarded or
original-message separator. The result is bounded to :data:`MAX_TEXT` characters (the
size intake's message takes).
"""

from __future__ import annotations

import html
import re
from email.message import EmailMessage, Message

MAX_TEXT = 4000
_ATTRIBUTION = (
    re.compile(r"^\s*On\b.{0,300}\bwrote:\s*$", re.IGNORECASE),
    re.compile(r"^\s*在.{0,300}写道[:：]\s*$"),
    re.compile(r"^\s*-{2,}\s*(Original Message|原始邮件|Forwarded message)\s*-{2,}\s*$", re.I),
    re.compile(r"^\s*(From|发件人)\s*[:：]\s*.+$"),
)
_TAGS = re.compile(r"<[^>]*>")
_BLOCK_TAGS = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h[1-6])\b[^>]*>", re.IGNORECASE)
_HIDDEN = re.compile(
    r"<\s*(script|style|head|blockquote)\b.*?<\s*/\s*\1\s*>", re.IGNORECASE | re.DOTALL
)


def reply_text(message: Message) -> str:
    """The customer's own words in ``message`` (possibly empty)."""
    return strip_quoted(body_text(message))[:MAX_TEXT].strip()


def body_text(message: Message) -> str:
    """The text/plain part, else the text/html part as text; '' when there is neither."""
    part: Message | None
    if isinstance(message, EmailMessage):
        part = message.get_body(preferencelist=("plain", "html"))
    else:
        part = message if message.get_content_maintype() == "text" else None
    if part is None:
        return ""
    text = _decoded(part)
    if part.get_content_subtype() == "html":
        return html_to_text(text)
    return text


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        return payload.decode("utf-8", errors="replace")


def html_to_text(markup: str) -> str:
    """Visible text of an HTML body: quoted blocks, scripts and styles dropped, line
    breaks kept at block ends, entities decoded."""
    without_hidden = _HIDDEN.sub("", markup)
    with_breaks = _BLOCK_TAGS.sub("\n", without_hidden)
    return html.unescape(_TAGS.sub("", with_breaks))


def strip_quoted(text: str) -> str:
    """``text`` up to the first line of quoted history; line endings normalised."""
    kept: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line.lstrip().startswith(">") or any(p.match(line) for p in _ATTRIBUTION):
            break
        kept.append(line.rstrip())
    return "\n".join(kept).strip()
