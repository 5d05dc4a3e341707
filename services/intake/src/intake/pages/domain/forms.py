"""What the tracking page's forms accept, checked before anything is stored, each refusal
with its own words for the customer (``form.<field>.<problem>``):

- a message: 1 to 10,000 characters after trimming (the API's bound, counted after the
  browser's CRLF line breaks became LF, so a long text with line breaks is not refused
  for characters the customer never typed), no NUL or other control character (tab and
  line breaks are fine); markup is just text (the page escapes it when it shows it);
- a withdrawal's reason: optional, at most 2,000 characters, the same characters;
- a submission key: the random value the page put in the form (a tampered one is
  refused: it is how the server recognises a repeated submission).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

MAX_MESSAGE: Final = 10_000
MAX_REASON: Final = 2000
_NUL: Final = "\x00"
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SUBMISSION_KEY: Final = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@dataclass(frozen=True)
class Checked:
    """``text`` when accepted, else ``error``: the words' key."""

    text: str | None
    error: str | None = None


def _normalised(raw: str | None) -> str:
    return (raw or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _characters_error(text: str, field: str) -> str | None:
    if _NUL in text:
        return f"form.{field}.nul"
    if _CONTROL.search(text):
        return f"form.{field}.control"
    return None


def check_message(raw: str | None) -> Checked:
    text = _normalised(raw)
    if not text:
        return Checked(None, "form.message.empty")
    if len(text) > MAX_MESSAGE:
        return Checked(None, "form.message.too_long")
    error = _characters_error(text, "message")
    return Checked(None, error) if error else Checked(text)


def check_reason(raw: str | None) -> Checked:
    """An empty reason is no reason (accepted as None)."""
    text = _normalised(raw)
    if len(text) > MAX_REASON:
        return Checked(None, "form.reason.too_long")
    error = _characters_error(text, "reason")
    if error:
        return Checked(None, error)
    return Checked(text or None)


def is_submission_key(value: str | None) -> bool:
    return value is not None and bool(_SUBMISSION_KEY.match(value))
