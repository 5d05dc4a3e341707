"""Tracking tokens: the credential that opens one complaint to its customer. Intake keeps its
SHA-256 hash to check it, and an encrypted copy because notify puts the link in messages.

The link is ``{PUBLIC_BASE_URL}/t/{token}``: the token is a path segment, not a query
parameter, so it stays out of the query strings that proxies and analytics record, and the
page it opens (``/t/`` answers with a cookie and a redirect to ``/c/{complaint_id}``) keeps
it out of the address bar, the history and Referer headers. Intake's own logs redact it
(:func:`redact_link_paths`)."""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Final

LINK_PREFIX: Final = "/t/"
_LINK_PATH: Final = re.compile(r"/t/[^/?#\s\"']+")
REDACTED_LINK: Final = "/t/[redacted]"


def new_tracking_token() -> str:
    return secrets.token_urlsafe(24)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def tracking_url(public_base_url: str, token: str) -> str:
    """The customer's link (in the POST answer and in every message notify sends)."""
    return f"{public_base_url.rstrip('/')}{LINK_PREFIX}{token}"


def redact_link_paths(text: str) -> str:
    """``text`` with every ``/t/<token>`` replaced by ``/t/[redacted]`` (log lines)."""
    return _LINK_PATH.sub(REDACTED_LINK, text)
