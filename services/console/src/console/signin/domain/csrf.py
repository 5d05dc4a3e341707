"""Cross-site request forgery: every state-changing request (every POST) must carry the
session's own random token, in the form's hidden field or in the header htmx sends. A
page of another site can make the browser post with the session cookie, but cannot read
the token (same-origin policy), so its post is refused with 403 and nothing is applied.
"""

from __future__ import annotations

import base64
import hmac
from typing import Final

CSRF_FIELD: Final = "csrf_token"
CSRF_HEADER: Final = "X-CSRF-Token"
TOKEN_BYTES: Final = 32
MAX_TOKEN_LENGTH: Final = 100


def token_of(entropy: bytes) -> str:
    """The text form of a new token (``entropy``: ``secrets.token_bytes(TOKEN_BYTES)``)."""
    if len(entropy) < TOKEN_BYTES:
        raise ValueError(f"a CSRF token needs {TOKEN_BYTES} random bytes")
    return base64.urlsafe_b64encode(entropy).decode().rstrip("=")


def csrf_ok(expected: str | None, submitted: str | None) -> bool:
    """Whether ``submitted`` is the session's token (constant-time); a session without a
    token, or a request without one, never passes."""
    if not expected or not submitted or len(submitted) > MAX_TOKEN_LENGTH:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())
