"""Where to go after signing in or switching the language: only a path of this console
(``/cases/...``), never another site (an open redirect would let a link to the console's
sign-in send the user anywhere afterwards)."""

from __future__ import annotations

from typing import Final

HOME: Final = "/"
MAX_PATH: Final = 2000


def local_path(value: str | None, *, default: str = HOME) -> str:
    """``value`` when it is a path of this site (``/...``, not ``//host``, no scheme, no
    backslash or control character), else ``default``."""
    if not value or len(value) > MAX_PATH or not value.startswith("/"):
        return default
    if value.startswith("//") or "\\" in value or any(ord(c) < 0x20 for c in value):
        return default
    return value
