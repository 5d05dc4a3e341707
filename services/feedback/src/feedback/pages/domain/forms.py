"""What the pages' forms accept, checked before anything is stored; each refusal has its own
words for the customer (``form.<field>.<problem>``), and a refused form is drawn again with
what the customer chose and wrote, so nothing has to be typed twice.

- a choice (``solved``: yes/no; ``csat``: 1–5; ``score``: 0–10) must be one of the form's
  values, exactly as the page wrote it: anything else (missing, ``7`` for a CSAT, ``1e1``,
  `` 5``) was not offered, so it is refused rather than guessed at;
- a comment is optional, at most 2,000 characters after trimming (counted after the
  browser's CRLF line breaks became LF), without NUL or other control characters (tab
  and line breaks are fine); markup is just text (the pages escape it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

MAX_COMMENT: Final = 2000
MAX_SHOWN: Final = 4000  # a refused comment is shown again at most this long
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SOLVED_VALUES: Final = ("yes", "no")
CSAT_VALUES: Final = tuple(str(n) for n in range(1, 6))
SCORE_VALUES: Final = tuple(str(n) for n in range(0, 11))


@dataclass(frozen=True)
class Checked:
    """``value`` when accepted, else ``error``: the words' key."""

    value: str | None
    error: str | None = None


@dataclass(frozen=True)
class FormState:
    """A form drawn again: the customer's choices and text, and what was wrong with them
    (field → the words' key)."""

    values: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)

    @property
    def refused(self) -> bool:
        return bool(self.errors)


def normalised(raw: str | None) -> str:
    return (raw or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def shown(raw: str | None) -> str:
    """Text as a refused form shows it again: without control characters (a browser would
    mangle them anyway), at most a little over the limit so the customer can shorten it."""
    kept = "".join(c for c in (raw or "") if c in "\t\n" or not _CONTROL.match(c))
    return normalised(kept)[:MAX_SHOWN]


def check_choice(raw: str | None, allowed: Sequence[str], *, name: str) -> Checked:
    if raw is None or raw == "":
        return Checked(None, f"form.{name}.missing")
    if raw not in allowed:
        return Checked(None, f"form.{name}.invalid")
    return Checked(raw)


def check_comment(raw: str | None) -> Checked:
    """An empty comment is no comment (accepted as None)."""
    text = normalised(raw)
    if "\x00" in text:
        return Checked(None, "form.comment.nul")
    if _CONTROL.search(text):
        return Checked(None, "form.comment.control")
    if len(text) > MAX_COMMENT:
        return Checked(None, "form.comment.too_long")
    return Checked(text or None)
