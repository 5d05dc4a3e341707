"""What text a request may carry, as pydantic validators for request models (pure: usable in
``schemas.py`` and ``domain`` modules alike).

- :data:`SingleLine` for names, titles, subjects, labels, ids and keys: no line break (CR,
  LF, NEL, U+2028/9) and no other control character; a tab is allowed. Such values go into
  e-mail headers, signatures and one-line displays: a line break there breaks the message
  (or injects headers) for every e-mail of the complaint.
- :data:`MultiLine` for descriptions, messages, notes and reasons: line breaks and tabs
  kept, every other control character refused.

NUL is refused by both, and in every request also by the runtime
(:mod:`complaint_runtime.nul_guard`), because PostgreSQL cannot store it in text.
"""

from __future__ import annotations

import re
from typing import Final

from pydantic import AfterValidator

# C0 controls but tab, DEL, C1 controls (NEL among them), line and paragraph separators.
_NOT_IN_ONE_LINE: Final = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
# C0 controls but tab, LF and CR; DEL.
_NOT_IN_TEXT: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def single_line(value: str) -> str:
    """``value`` unchanged if it is one line without control characters (tab allowed)."""
    if _NOT_IN_ONE_LINE.search(value):
        raise ValueError("must be a single line, without line breaks or control characters")
    return value


def multi_line(value: str) -> str:
    """``value`` unchanged if it has no control characters other than tab and line breaks."""
    if _NOT_IN_TEXT.search(value):
        raise ValueError("must not contain control characters (other than tab and line breaks)")
    return value


SingleLine: Final = AfterValidator(single_line)
MultiLine: Final = AfterValidator(multi_line)
