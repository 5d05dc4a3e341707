"""Who is calling: a front end with a per-channel API key, or a customer with the tracking
token of their own complaint. Keys are stored as SHA-256 hashes only."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from complaint_runtime.errors import Forbidden

from intake.complaints.domain.tracking import hash_token


class ChannelNotAllowed(Forbidden):
    default_title = "Channel not allowed for this API key"
    default_kind = "channel-not-allowed"


@dataclass(frozen=True)
class FrontEnd:
    api_key_id: int
    label: str
    channels: tuple[str, ...]

    def may_post(self, channel: str) -> bool:
        return "*" in self.channels or channel in self.channels

    def check_may_post(self, channel: str) -> None:
        if not self.may_post(channel):
            raise ChannelNotAllowed(
                f"This key may post for {', '.join(self.channels)}, not {channel}."
            )


@dataclass(frozen=True)
class Viewer:
    """Either a front end (any complaint) or a customer holding one complaint's token."""

    front_end: FrontEnd | None
    tracking_token: str | None

    @property
    def is_staff(self) -> bool:
        """A front end sees the internals of a complaint; a customer sees its steps."""
        return self.front_end is not None

    def may_view(self, tracking_token_hash: str) -> bool:
        if self.front_end is not None:
            return True
        if self.tracking_token is None:
            return False
        return hmac.compare_digest(hash_token(self.tracking_token), tracking_token_hash)


def new_api_key() -> str:
    """A front end's key: shown once when created, never stored."""
    return f"ck_{secrets.token_urlsafe(32)}"


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
