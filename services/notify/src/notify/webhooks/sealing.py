"""Webhook signing secrets at rest: AES-256-GCM, bound to their subscription.

The key is ``NOTIFY_WEBHOOK_SECRET_KEY`` (hashed to 32 bytes) when set, else a sub-key of
notify's own private key (``AUTH_SIGNING_KEY``, which no other service holds) with its own
label, as :func:`notify.messages.service.recipient_hash_key` derives the recipient hash key.
Each sealed value is ``v1.`` + base64(12-byte random nonce + ciphertext and tag), with the
subscription id as associated data: a sealed secret copied onto another row does not open.
Rotating the key makes existing secrets unreadable (rotate every subscription's secret).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from typing import Final

from complaint_runtime.errors import NotConfigured
from complaint_runtime.signing_keys import SigningKey
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from notify.config import NotifySettings
from notify.webhooks.domain.signing import WebhookSecret

_VERSION: Final = "v1."
_NONCE_BYTES: Final = 12
_LABEL: Final = b"notify webhook secret key"


class SealError(ValueError):
    """A sealed secret that does not open (another key, another row, or corrupted)."""


def sealing_key(settings: NotifySettings) -> bytes:
    """The AES-256 key; :class:`NotConfigured` when neither key setting is there."""
    configured = settings.notify_webhook_secret_key
    if configured:
        return hashlib.sha256(_LABEL + b"\0" + configured.encode()).digest()
    if not settings.auth_signing_key:
        raise NotConfigured(
            "Neither NOTIFY_WEBHOOK_SECRET_KEY nor AUTH_SIGNING_KEY is set on notify.",
            kind="webhook-secret-key-not-configured",
        )
    return SigningKey.from_jwk(settings.auth_signing_key).derive(_LABEL)


class Sealer:
    """Seals and opens signing secrets with one key (built once, in the composition root)."""

    def __init__(self, key: bytes):
        self._aead = AESGCM(key)

    def seal(self, secret: WebhookSecret, *, subscription_id: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, secret.key, subscription_id.encode())
        return _VERSION + base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, sealed: str, *, subscription_id: str) -> WebhookSecret:
        if not sealed.startswith(_VERSION):
            raise SealError("not a sealed webhook secret")
        try:
            raw = base64.b64decode(sealed[len(_VERSION) :], validate=True)
            key = self._aead.decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], subscription_id.encode()
            )
        except (binascii.Error, InvalidTag, ValueError):
            raise SealError("the webhook secret does not open with this key") from None
        return WebhookSecret(key)
