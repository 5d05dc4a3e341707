"""Front ends and their keys' lifecycle: the names, the scopes a key may carry, and when a
key stops working (revoked now, or rotated out after a grace period).

A key's ``revoked_at`` is the moment it stops working: none while it is in use, a future
time while it is rotated out (the old key keeps working until then, so a front end can
deploy the new one without a gap), a past time once revoked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Final

from complaint_runtime.errors import Conflict, InvalidInput, field_error

ERASURE: Final = "erasure"
EXPORT: Final = "export"
READ_ALL: Final = "complaints:read-all"
KNOWN_SCOPES: Final[dict[str, str]] = {
    ERASURE: "may request the erasure of its own front end's customers",
    EXPORT: "may export its own front end's customers' data (POST /v1/exports)",
    READ_ALL: (
        "may read (and write on, withdraw) every complaint of its channels, not only its own "
        "front end's: e.g. a CRM that must see the call centre's complaints"
    ),
}
"""Every scope a key may carry, with what it allows (``intake-admin create-api-key
--scope``). Without a scope a key posts for its channels and reaches its front end's own
complaints of those channels."""

MAX_NAME: Final = 100  # the api_keys.front_end column
# A name is hashed with the customer ids it sends (``id@<name>:<id>``): a colon in it could
# make two (name, id) pairs hash alike, so names never hold one.
_NAME: Final = re.compile(r"[^\s:\x00-\x1f\x7f](?:[^:\x00-\x1f\x7f]*[^\s:\x00-\x1f\x7f])?")
MAX_REASON: Final = 200  # the api_keys.revoked_reason column
ROTATED: Final = "rotated"  # the reason recorded on a key rotated out


def check_name(name: str) -> str:
    """A front end's name: 1 to 100 characters, no colon, no control character, no space at
    either end. Short lower-case words are best (``web-shop``, ``call-centre``): the name
    is how keys, complaints and customer ids are grouped, and it never changes."""
    if len(name) > MAX_NAME or not _NAME.fullmatch(name):
        raise InvalidInput(
            "A front end's name is 1 to 100 characters without a colon, a control character "
            "or a space at either end, e.g. web-shop.",
            errors=[field_error("front_end", f"{name!r} is not a front end name")],
        )
    return name


def check_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """The scopes, each known, in a stable order without repeats."""
    given = tuple(dict.fromkeys(scopes))
    unknown = [scope for scope in given if scope not in KNOWN_SCOPES]
    if unknown:
        raise InvalidInput(
            f"Unknown scope(s) {', '.join(unknown)}; known: {', '.join(KNOWN_SCOPES)}.",
            errors=[field_error("scopes", f"unknown scope {scope!r}") for scope in unknown],
        )
    return tuple(sorted(given))


def is_active(revoked_at: datetime | None, *, now: datetime) -> bool:
    """Whether a key with this ``revoked_at`` still works at ``now``."""
    return revoked_at is None or revoked_at > now


def stop_time(*, now: datetime, grace: timedelta) -> datetime:
    """When a key rotated out at ``now`` stops working: after ``grace`` (none: at once)."""
    if grace < timedelta(0):
        raise InvalidInput(
            "The grace period cannot be negative.",
            errors=[field_error("grace", "must be zero or more")],
        )
    return now + grace


def check_changeable(key_id: int, revoked_at: datetime | None, *, now: datetime) -> None:
    """A key is rotated or revoked only while nothing ends it yet: a revoked key stays
    revoked, and one being rotated out has its successor already (revoke it to end the
    grace period early)."""
    if revoked_at is None:
        return
    if revoked_at <= now:
        raise Conflict(f"API key {key_id} is already revoked.")
    raise Conflict(
        f"API key {key_id} is already being rotated out (it stops working at "
        f"{revoked_at.isoformat()}); revoke it to stop it now."
    )


def check_revocable(key_id: int, revoked_at: datetime | None, *, now: datetime) -> None:
    """A key in use or rotated out may be revoked (now); a revoked one is refused."""
    if revoked_at is not None and revoked_at <= now:
        raise Conflict(f"API key {key_id} is already revoked.")


def reason_of(reason: str | None) -> str | None:
    """The reason as kept: blank is none, never longer than the column."""
    if reason is None or not reason.strip():
        return None
    return reason.strip()[:MAX_REASON]
