"""Signing outgoing webhooks to the Standard Webhooks specification (no I/O).

Spec: https://www.standardwebhooks.com (``spec/standard-webhooks.md``, "Signature scheme").

- A secret is ``whsec_`` followed by the standard base64 (with padding) of 24 to 64 random
  bytes; the key of the HMAC is the decoded bytes, not the text. :func:`generate_secret`
  draws 32 bytes; :func:`parse_secret` accepts exactly the spec's form and raises
  :class:`ValueError` with the reason otherwise.
- The signed content is ``{msg_id}.{timestamp}.{body}``: the message id, a full stop, the
  timestamp in whole seconds since the Unix epoch (decimal, no fraction), a full stop, and the
  body bytes exactly as sent (never re-serialised).
- A signature is ``v1,`` followed by the standard base64 of HMAC-SHA256(key, signed content).
  Several signatures are separated by single spaces; a receiver accepts the message if any
  one matches. During a secret rotation's grace period notify signs with every live secret,
  the newest first, so a receiver holding either the old or the new secret verifies it.
- Three headers go with each request: ``webhook-id`` (the message id), ``webhook-timestamp``
  and ``webhook-signature``.

The message id is the caller's delivery id and stays the same on every retry of that delivery,
so a receiver can de-duplicate; the timestamp is the time of the attempt (receivers refuse
stale ones, the reference library after five minutes). Ids are restricted to
``[A-Za-z0-9_-]{1,255}`` (a UUID fits): a header-safe value, and without a full stop the signed
content cannot be split two ways.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from math import floor
from typing import Final

SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - the spec's prefix, not a secret
MIN_SECRET_BYTES: Final = 24
MAX_SECRET_BYTES: Final = 64
DEFAULT_SECRET_BYTES: Final = 32
SIGNATURE_VERSION: Final = "v1"

HEADER_ID: Final = "webhook-id"
HEADER_TIMESTAMP: Final = "webhook-timestamp"
HEADER_SIGNATURE: Final = "webhook-signature"

_MSG_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,255}")


@dataclass(frozen=True, slots=True)
class WebhookSecret:
    """A signing key. ``str()`` gives the spec's ``whsec_`` form; ``repr()`` never shows it."""

    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not MIN_SECRET_BYTES <= len(self.key) <= MAX_SECRET_BYTES:
            raise ValueError(
                f"a webhook secret has {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes, "
                f"not {len(self.key)}"
            )

    def __str__(self) -> str:
        return SECRET_PREFIX + base64.b64encode(self.key).decode("ascii")


def generate_secret(*, token_bytes: Callable[[int], bytes] = secrets.token_bytes) -> WebhookSecret:
    """A new secret of 32 bytes from ``token_bytes`` (the OS's CSPRNG unless a test injects)."""
    return WebhookSecret(token_bytes(DEFAULT_SECRET_BYTES))


def parse_secret(text: str) -> WebhookSecret:
    """The secret ``text`` names, or :class:`ValueError` saying why it is not one.

    Strict: the ``whsec_`` prefix, canonical base64 (padding included, no whitespace), and
    24 to 64 decoded bytes.
    """
    if not text.startswith(SECRET_PREFIX):
        raise ValueError(f"a webhook secret starts with {SECRET_PREFIX!r}")
    encoded = text[len(SECRET_PREFIX) :]
    try:
        key = base64.b64decode(encoded.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError("a webhook secret is base64 after its prefix") from None
    # validate=True still accepts non-canonical trailing bits; one form per key keeps
    # comparisons and storage simple.
    if base64.b64encode(key).decode("ascii") != encoded:
        raise ValueError("a webhook secret is canonical base64 after its prefix")
    return WebhookSecret(key)


def unix_seconds(at: datetime) -> int:
    """Whole seconds since the epoch (floored), the spec's timestamp; ``at`` must be aware."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("the webhook timestamp must be timezone-aware")
    return floor(at.timestamp())


def signed_content(*, msg_id: str, timestamp: int, body: bytes) -> bytes:
    """``{msg_id}.{timestamp}.{body}``, the bytes the HMAC covers."""
    _check_msg_id(msg_id)
    if timestamp < 0:
        raise ValueError("the webhook timestamp is not before the epoch")
    return f"{msg_id}.{timestamp}.".encode("ascii") + body


def signature(secret: WebhookSecret, *, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` of the signed content under one secret."""
    digest = hmac.new(
        secret.key, signed_content(msg_id=msg_id, timestamp=timestamp, body=body), hashlib.sha256
    ).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def signature_header(
    secrets_newest_first: Sequence[WebhookSecret], *, msg_id: str, timestamp: int, body: bytes
) -> str:
    """The ``webhook-signature`` value: one signature per secret, space-separated, in order.

    Pass the newest secret first; during a rotation's grace period pass both.
    """
    if not secrets_newest_first:
        raise ValueError("a webhook is signed with at least one secret")
    return " ".join(
        signature(s, msg_id=msg_id, timestamp=timestamp, body=body) for s in secrets_newest_first
    )


def webhook_headers(
    secrets_newest_first: Sequence[WebhookSecret], *, msg_id: str, at: datetime, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt of one message.

    ``msg_id`` is the delivery id (the same on every retry), ``at`` the attempt's time and
    ``body`` the exact bytes the request will carry.
    """
    timestamp = unix_seconds(at)
    return {
        HEADER_ID: msg_id,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_SIGNATURE: signature_header(
            secrets_newest_first, msg_id=msg_id, timestamp=timestamp, body=body
        ),
    }


def _check_msg_id(msg_id: str) -> None:
    if not _MSG_ID.fullmatch(msg_id):
        raise ValueError("a webhook message id is 1 to 255 of A-Z, a-z, 0-9, '_' and '-'")
