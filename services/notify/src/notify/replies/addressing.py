"""What the preparer puts on an outgoing e-mail: the complaint's reply address (Reply-To)
and, for a non-transactional message, the unsubscribe link (List-Unsubscribe), both signed
with notify's reply key; and what the inbound endpoint checks addresses with.

The key is ``NOTIFY_REPLY_KEY``, else a sub-key of notify's own private key
(``AUTH_SIGNING_KEY``, which no other service holds), labelled so it is unrelated to the
recipient-hash key. Without ``NOTIFY_REPLY_DOMAIN`` notify sends no reply address, without
``NOTIFY_PUBLIC_URL`` no unsubscribe link.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from complaint_runtime.errors import NotConfigured
from complaint_runtime.signing_keys import SigningKey

from notify.config import NotifySettings
from notify.replies.domain.addresses import (
    bounce_address,
    is_bounce_address,
    make_reply_address,
    parse_reply_address,
)
from notify.suppressions.domain.rules import unsubscribe_token, verify_unsubscribe_token

UNSUBSCRIBE_PATH = "/v1/unsubscribe"


def reply_key(settings: NotifySettings) -> bytes:
    """NOTIFY_REPLY_KEY, else derived from AUTH_SIGNING_KEY; :class:`NotConfigured` when
    replies or unsubscribe links are on and neither is set."""
    if settings.notify_reply_key:
        return settings.notify_reply_key.encode()
    if settings.auth_signing_key:
        return SigningKey.from_jwk(settings.auth_signing_key).derive(b"notify reply address key")
    if settings.notify_reply_domain or settings.notify_public_url:
        raise NotConfigured(
            "Neither NOTIFY_REPLY_KEY nor AUTH_SIGNING_KEY is set on notify.",
            kind="reply-key-not-configured",
        )
    return b""


@dataclass(frozen=True)
class ReplyAddressing:
    key: bytes
    domain: str
    public_url: str

    @classmethod
    def from_settings(cls, settings: NotifySettings) -> ReplyAddressing:
        return cls(
            key=reply_key(settings),
            domain=settings.notify_reply_domain.strip().lower(),
            public_url=settings.notify_public_url.strip().rstrip("/"),
        )

    def reply_address(self, complaint_id: str) -> str | None:
        """``reply+<complaint_id>.<tag>@<domain>``; None when replies are off."""
        if not self.domain or not self.key:
            return None
        return make_reply_address(complaint_id, key=self.key, domain=self.domain)

    def bounce_address(self) -> str | None:
        """``bounces@<domain>``: the envelope sender that receives bounce reports."""
        return bounce_address(self.domain) if self.domain else None

    def complaint_of(self, address: str) -> str | None:
        """The complaint a reply address names (its tag checked); None otherwise."""
        if not self.domain or not self.key:
            return None
        return parse_reply_address(address, key=self.key, domain=self.domain)

    def is_bounce_address(self, address: str) -> bool:
        return bool(self.domain) and is_bounce_address(address, domain=self.domain)

    def unsubscribe_url(self, delivery_id: str) -> str | None:
        """The one-click unsubscribe link of a delivery; None without NOTIFY_PUBLIC_URL."""
        if not self.public_url or not self.key:
            return None
        token = unsubscribe_token(delivery_id, key=self.key)
        return f"{self.public_url}{UNSUBSCRIBE_PATH}?token={quote(token)}"

    def unsubscribed_delivery(self, token: str) -> str | None:
        """The delivery a well-signed unsubscribe token names."""
        if not self.key:
            return None
        return verify_unsubscribe_token(token, key=self.key)
