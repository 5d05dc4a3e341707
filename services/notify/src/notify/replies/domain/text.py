"""The words of a customer's reply: its own text, without the quoted history.

A reply carries the whole notification below it; only what the customer wrote becomes a
message on the complaint. The text/plain part is taken (else the HTML part, tags
stripped), then everything from the first marker of quoted history on is dropped: lines
starting with ``>``, an attribution line ("On … wrote:", "在 … 写道："), a forwarded or
original-message separator. The result is bounded to :data:`MAX_TEXT` characters (the
size intake's message takes) and holds no control characters but tab and line breaks.
Reading HTML takes time linear in at most :data:`MAX_HTML` characters, whatever a sender
puts in them (no regular expression that backtracks over markup).
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
# Only the start of an HTML body is read: a reply is at most MAX_TEXT characters, and
# bounding the markup bounds the work whatever it holds.
MAX_HTML = 64 * 1024
# C0 controls but tab, LF and CR; DEL: what intake refuses in a message (and NUL is what
# PostgreSQL cannot store in text).
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TAG_NAME = re.compile(r"/?([a-zA-Z][a-zA-Z0-9]*)")
_RAW_TEXT_END = re.compile(r"</(script|style)[\s/>]", re.IGNORECASE)
_RAW_TEXT = frozenset({"script", "style"})
_HIDDEN = frozenset({"head", "blockquote"})
_BLOCKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})
_BLANK_LINES = re.compile(r"\n{3,}")


def reply_text(message: Message) -> str:
    """The customer's own words in ``message`` (possibly empty), without control
    characters (see :func:`storable_text`)."""
    return strip_quoted(storable_text(body_text(message)))[:MAX_TEXT].strip()


def storable_text(text: str) -> str:
    """``text`` without NUL, the other C0 control characters but tab, LF and CR, and DEL:
    what intake accepts as a message and PostgreSQL can store; everything else is kept."""
    return _CONTROLS.sub("", text)


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
    """Visible text of an HTML body: quoted blocks, the head, scripts and styles dropped,
    line breaks at ``<br>`` and block elements, entities decoded.

    One pass over at most :data:`MAX_HTML` characters, in time linear in them whatever
    they hold (every search either moves past what it scanned or ends the pass). An
    unclosed tag, comment or hidden element hides the rest, as a browser would.
    """
    markup = markup[:MAX_HTML]
    out: list[str] = []
    hidden = 0  # depth of open <head>/<blockquote> elements
    i, end = 0, len(markup)
    while i < end:
        lt = markup.find("<", i)
        if lt < 0:
            lt = end
        if lt > i and not hidden:
            out.append(html.unescape(markup[i:lt]))
        if lt >= end:
            break
        i, tag = _markup_at(markup, lt)
        if tag == "<":
            if not hidden:
                out.append("<")  # a lone "<" is text ("a < b")
            continue
        name, closing = tag.lstrip("/"), tag.startswith("/")
        if name in _HIDDEN:
            hidden = max(0, hidden - 1) if closing else hidden + 1
        elif name in _RAW_TEXT and not closing:
            i = _raw_text_end(markup, name, i)
        elif name in _BLOCKS and not hidden:
            out.append("\n")
    return _BLANK_LINES.sub("\n\n", "".join(out))


def _markup_at(markup: str, lt: int) -> tuple[int, str]:
    """Where the markup starting with the ``<`` at ``lt`` ends, and what it is: a tag's
    lower-case name (``/name`` when it closes), ``"<"`` for a lone ``<`` (text), ``""``
    for a comment or declaration. Unclosed, it runs to the end of ``markup``."""
    name = _TAG_NAME.match(markup, lt + 1)
    if name is None and markup.startswith("<!--", lt):
        close = markup.find("-->", lt + 4)
        return (len(markup) if close < 0 else close + 3), ""
    if name is None and not markup.startswith(("<!", "<?", "</"), lt):
        return lt + 1, "<"
    close = markup.find(">", lt + 1)
    if close < 0:
        return len(markup), ""  # an unclosed tag: nothing after it is shown
    if name is None:
        return close + 1, ""  # a declaration, processing instruction or bogus comment
    return close + 1, name.group(0).lower()


def _raw_text_end(markup: str, tag: str, start: int) -> int:
    """Where the ``</script>`` (or ``</style>``) ending a raw text element opened before
    ``start`` begins; the end of ``markup`` when it is not closed."""
    for found in _RAW_TEXT_END.finditer(markup, start):
        if found.group(1).lower() == tag:
            return found.start()
    return len(markup)


def strip_quoted(text: str) -> str:
    """``text`` up to the first line of quoted history; line endings normalised."""
    kept: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line.lstrip().startswith(">") or any(p.match(line) for p in _ATTRIBUTION):
            break
        kept.append(line.rstrip())
    return "\n".join(kept).strip()
