"""CSRF tokens bound to the link cookie. The cookie is SameSite=Lax, which already keeps
most cross-site posts out; a token in every form closes the rest (old browsers, same-site
subdomains). The token is an HMAC of the cookie's value under a server key: another site
cannot read the cookie, so it cannot compute the token, and the server keeps no state (any
replica checks it). A new link (a rotated cookie) makes the old pages' tokens invalid."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Final

CSRF_FIELD: Final = "csrf_token"
MAX_TOKEN_LENGTH: Final = 100
_PURPOSE: Final = b"complaint-customer-web/csrf/v1"


def derive_key(secret: bytes) -> bytes:
    """A key used for CSRF tokens only, derived from a service secret (so the secret
    itself is never the MAC key of something shown in a page)."""
    return hmac.new(secret, _PURPOSE, hashlib.sha256).digest()


def csrf_token(key: bytes, *, bound_to: str) -> str:
    """The token of the forms of a page whose cookie holds ``bound_to``."""
    digest = hmac.new(key, bound_to.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def csrf_ok(key: bytes, *, bound_to: str | None, submitted: str | None) -> bool:
    """Whether ``submitted`` is the token of the cookie ``bound_to`` (constant time); no
    cookie or no token never passes."""
    if not bound_to or not submitted or len(submitted) > MAX_TOKEN_LENGTH:
        return False
    return hmac.compare_digest(csrf_token(key, bound_to=bound_to).encode(), submitted.encode())
