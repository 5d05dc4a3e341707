"""How strong a secret key must be, checked when a service starts (§10).

An HMAC or HS256 key is only as strong as its bytes: ``CUSTOMER_REF_KEY=x`` would make every
customer reference guessable from a phone number, ``AUTH_JWT_SECRET=secret`` every staff
token forgeable. A service refuses to start with a key shorter than 32 bytes, or one with
so few distinct characters that it is a placeholder (``xxxx…``, ``0000…``), and says which
variable it is and how to make a good one. Pure: no framework, usable from any layer.
"""

from __future__ import annotations

from typing import Final

MIN_SECRET_BYTES: Final = 32
# A random key of 32+ characters from any alphabet (hex included) has far more.
MIN_DISTINCT_CHARACTERS: Final = 8
GENERATE: Final = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"


def check_secret(name: str, value: str, *, generate: str = GENERATE) -> str:
    """``value`` unchanged when it is a strong enough key; ``ValueError`` naming ``name`` and
    the command that makes a good one otherwise (the caller decides whether empty is
    allowed: an empty value is refused here)."""
    size = len(value.encode())
    if size < MIN_SECRET_BYTES:
        raise ValueError(
            f"{name} is too short ({size} bytes; at least {MIN_SECRET_BYTES} random bytes "
            f"needed): create one with {generate}"
        )
    if len(set(value)) < MIN_DISTINCT_CHARACTERS:
        raise ValueError(
            f"{name} is not random (only {len(set(value))} distinct characters): create one "
            f"with {generate}"
        )
    return value
