"""The vendor-neutral staff notice, the built request, and the text rules all vendors share.

A :class:`StaffNotice` is what notify knows about a staff notice (title, lines, the case's
link in the staff console, severity, language); each vendor module renders it into its own
markdown dialect. Staff notices never carry customer contacts (requirements §10): the
wiring session builds them from case data only.

Escaping (why two ways):

* WeCom and DingTalk document no escape syntax for their markdown (no backslash escapes, no
  HTML entities), yet both render ``<font ...>`` tags, links and emphasis. So text that came
  from data is *neutralised*: every markdown- or HTML-significant ASCII character is replaced
  by its full-width look-alike (``<`` → ``＜``, ``*`` → ``＊`` …, see ``_FULL_WIDTH``). A name
  like ``a_b*c`` is shown as ``a＿b＊c``: readable, never markup.
* Feishu's card markdown takes HTML character references for special characters, so there
  the characters are shown literally (``*`` → ``&#42;``, ``<`` → ``&lt;`` …).

* Plain-text messages (Feishu ``text``) are not markdown but still parse ``<at ...>`` tags, so
  there only ``<`` and ``>`` become look-alikes (``notice.without_tags``).

Newlines inside a title or a line are folded to spaces, so data can never start a new
markdown block (a heading, a quote, a list) of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

Severity = Literal["info", "warning", "critical"]
Language = Literal["zh-CN", "en"]
Vendor = Literal["wecom", "dingtalk", "feishu"]
JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]

ELLIPSIS = "…"
# Room for the link inside WeCom's 4096-byte content with the rest of the notice.
MAX_URL_BYTES = 2048

_FULL_WIDTH = str.maketrans(
    {
        "<": "＜",
        ">": "＞",
        "*": "＊",
        "_": "＿",
        "[": "［",
        "]": "］",
        "`": "｀",
        "#": "＃",
        "~": "～",
        "|": "｜",
        "\\": "＼",
    }
)
_HTML_REFERENCES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        "*": "&#42;",
        "_": "&#95;",
        "[": "&#91;",
        "]": "&#93;",
        "`": "&#96;",
        "#": "&#35;",
        "~": "&#126;",
        "|": "&#124;",
        "\\": "&#92;",
    }
)
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")
_URL_FORBIDDEN = re.compile(r"[\x00-\x20\x7f<>\"]")

_SEVERITY_LABELS: dict[Language, dict[Severity, str]] = {
    "zh-CN": {"info": "通知", "warning": "警告", "critical": "紧急"},
    "en": {"info": "Info", "warning": "Warning", "critical": "Critical"},
}
_LINK_LABELS: dict[Language, str] = {"zh-CN": "在工作台中查看", "en": "Open in the staff console"}


@dataclass(frozen=True, slots=True)
class StaffNotice:
    """One notice to a team's group chat.

    Guarantees on construction: ``case_url`` is an absolute http(s) URL of at most
    ``MAX_URL_BYTES`` bytes without whitespace, quotes or angle brackets (it is put whole
    inside markdown links, within WeCom's 4096 bytes); ``title`` is not blank.
    Raises ``ValueError`` otherwise.
    """

    title: str
    lines: tuple[str, ...]
    case_url: str
    severity: Severity = "info"
    language: Language = "zh-CN"

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise ValueError("a staff notice needs a title")
        parts = urlsplit(self.case_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("case_url must be an absolute http(s) URL")
        if len(self.case_url.encode("utf-8")) > MAX_URL_BYTES:
            raise ValueError(f"case_url must be at most {MAX_URL_BYTES} bytes")
        if _URL_FORBIDDEN.search(self.case_url):
            raise ValueError("case_url must not contain spaces, quotes or angle brackets")

    @property
    def severity_label(self) -> str:
        """The severity in the notice's language (e.g. ``紧急``, ``Critical``)."""
        return _SEVERITY_LABELS[self.language][self.severity]

    @property
    def link_label(self) -> str:
        """The link text to the case in the notice's language."""
        return _LINK_LABELS[self.language]


@dataclass(frozen=True, slots=True)
class RobotRequest:
    """A request ready to post to ``vendor``'s robot: the full URL (it carries the robot's
    key or token, so it is a secret and must never be logged) and the JSON body."""

    vendor: Vendor
    url: str
    body: dict[str, JsonValue]


def one_line(text: str) -> str:
    """``text`` with every line break folded to one space, the ends stripped, and any lone
    surrogate (a broken decode upstream; not encodable as UTF-8) replaced by ``?``, so the
    result always encodes."""
    encodable = text.encode("utf-8", errors="replace").decode("utf-8")
    return _LINE_BREAKS.sub(" ", encodable).strip()


def neutralise(text: str) -> str:
    """For WeCom and DingTalk markdown: one line, markdown/HTML characters replaced by their
    full-width look-alikes, so the result renders as the same text and never as markup."""
    return one_line(text).translate(_FULL_WIDTH)


def without_tags(text: str) -> str:
    """For plain-text messages: one line, ``<`` and ``>`` as full-width look-alikes, so data
    cannot form a tag such as Feishu's ``<at user_id="all">`` (a mention of everyone)."""
    return one_line(text).replace("<", "＜").replace(">", "＞")


def html_escape_markdown(text: str) -> str:
    """For Feishu card markdown: one line, special characters as HTML character references,
    so the text is shown literally."""
    return one_line(text).translate(_HTML_REFERENCES)


def link_target(url: str) -> str:
    """``url`` safe inside ``[text](url)``: parentheses percent-encoded (RFC 3986 allows
    it), so a ``)`` in the URL cannot end the link early."""
    return url.replace("(", "%28").replace(")", "%29")


def truncate_utf8(text: str, limit_bytes: int, *, ellipsis: str = ELLIPSIS) -> str:
    """``text`` if its UTF-8 encoding fits ``limit_bytes``; otherwise its longest prefix that
    fits together with ``ellipsis``, followed by ``ellipsis``.

    Guarantees: the result's UTF-8 length is at most ``limit_bytes``; a multi-byte character
    is never split (the cut is made on bytes, then a trailing partial character is dropped);
    a truncated result ends with ``ellipsis``. Raises ``ValueError`` if ``limit_bytes`` is
    smaller than the ellipsis itself.
    """
    encoded = text.encode("utf-8")
    if len(encoded) <= limit_bytes:
        return text
    room = limit_bytes - len(ellipsis.encode("utf-8"))
    if room < 0:
        raise ValueError("limit_bytes is smaller than the ellipsis")
    # Cutting a valid UTF-8 string leaves at most one incomplete character at the end;
    # "ignore" drops exactly that one.
    return encoded[:room].decode("utf-8", errors="ignore") + ellipsis
