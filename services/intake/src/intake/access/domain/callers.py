"""Who is calling: a front end with an API key, or a customer with the tracking token of
their own complaint. Keys are stored as SHA-256 hashes only.

A key belongs to a **front end** (a stable name such as ``web-shop``; its keys are rotated
within it) and is bound to the channels it was given and to the complaints its front end
created; with the ``complaints:read-all`` scope, to every complaint of its channels. What
lies outside its reach does not exist for it (404, never 403). Every caller sees the
customer's view of a complaint; staff read the internals through routing and the console.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Protocol

from complaint_runtime.errors import Forbidden

from intake.access.domain.front_ends import READ_ALL
from intake.complaints.domain.tracking import hash_token


class ChannelNotAllowed(Forbidden):
    default_title = "Channel not allowed for this API key"
    default_kind = "channel-not-allowed"


class Reachable(Protocol):
    """What decides whether a caller may reach a complaint (a ``complaints`` row fits)."""

    @property
    def channel(self) -> str: ...

    @property
    def front_end(self) -> str | None: ...

    @property
    def tracking_token_hash(self) -> str: ...


@dataclass(frozen=True)
class FrontEnd:
    """The front end behind a valid key: ``name`` is the front end (stable across its keys'
    rotations; a key made before front ends were named is its ``label``'s), ``label`` the
    key's own description, ``scopes`` what it may do beyond posting and reading its own."""

    api_key_id: int
    label: str
    channels: tuple[str, ...]
    name: str = ""
    scopes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.label)

    def may_post(self, channel: str) -> bool:
        return "*" in self.channels or channel in self.channels

    def check_may_post(self, channel: str) -> None:
        if not self.may_post(channel):
            raise ChannelNotAllowed(
                f"This key may post for {', '.join(self.channels)}, not {channel}."
            )

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def reaches(self, complaint: Reachable) -> bool:
        """A complaint of one of its channels that its front end created, or, with the
        ``complaints:read-all`` scope, any complaint of its channels. A complaint from
        before front ends were recorded (no front end) is reached only with that scope."""
        if not self.may_post(complaint.channel):
            return False
        if self.has_scope(READ_ALL):
            return True
        return complaint.front_end is not None and complaint.front_end == self.name


@dataclass(frozen=True)
class Viewer:
    """Either a front end (what its key reaches) or a customer holding one complaint's
    token. A key, when sent, decides alone: a token beside it opens nothing more."""

    front_end: FrontEnd | None
    tracking_token: str | None

    def may_view(self, complaint: Reachable) -> bool:
        if self.front_end is not None:
            return self.front_end.reaches(complaint)
        if self.tracking_token is None:
            return False
        return hmac.compare_digest(hash_token(self.tracking_token), complaint.tracking_token_hash)


def new_api_key() -> str:
    """A front end's key: shown once when created, never stored."""
    return f"ck_{secrets.token_urlsafe(32)}"


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
