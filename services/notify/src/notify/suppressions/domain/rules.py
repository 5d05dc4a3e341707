"""Which messages a suppression stops, and the signed token of an unsubscribe link.

A **bounce** (the address does not exist, a permanent 5.x.x failure) stops every e-mail to
that address: sending more would only bounce again and hurt the sender's reputation. An
**unsubscribe** stops only non-transactional messages, today the NPS invitation: notices
about the customer's own open complaint (acknowledgement, replies, resolution, survey) are
transactional and still go, as the law allows (requirements §8, §10).

An unsubscribe link names the delivery it came with, ``<delivery_id>.<tag>``, the tag a
truncated HMAC-SHA256 under notify's key: a forged or altered token unsubscribes nobody.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Final, Literal

Reason = Literal["bounce", "unsubscribe"]
REASONS: Final[tuple[Reason, ...]] = ("bounce", "unsubscribe")
NON_TRANSACTIONAL: Final = frozenset({"nps_invitation"})
TOKEN_TAG_HEX: Final = 32
_DELIVERY_ID = re.compile(r"[0-9A-Za-z-]{1,36}")
# Checked before the comparison: hmac.compare_digest raises TypeError on a non-ASCII str.
_TAG = re.compile(rf"[0-9a-fA-F]{{{TOKEN_TAG_HEX}}}")


def suppression_applies(reason: str, template: str) -> bool:
    """Whether a suppression for ``reason`` stops a message of ``template``."""
    if reason == "bounce":
        return True
    if reason == "unsubscribe":
        return is_non_transactional(template)
    return False


def is_non_transactional(template: str) -> bool:
    """Marketing-like messages a customer may refuse (List-Unsubscribe is set on them)."""
    return template in NON_TRANSACTIONAL


def _tag(delivery_id: str, key: bytes) -> str:
    digest = hmac.new(key, f"unsubscribe:{delivery_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:TOKEN_TAG_HEX]


def unsubscribe_token(delivery_id: str, *, key: bytes) -> str:
    if not _DELIVERY_ID.fullmatch(delivery_id):
        raise ValueError("a delivery id is up to 36 letters, digits and dashes")
    return f"{delivery_id}.{_tag(delivery_id, key)}"


def verify_unsubscribe_token(token: str, *, key: bytes) -> str | None:
    """The delivery id a well-signed token names; None for anything else, whatever
    characters it holds (constant-time comparison of the ASCII hex tag)."""
    delivery_id, dot, tag = token.strip().rpartition(".")
    if not dot or not _DELIVERY_ID.fullmatch(delivery_id) or not _TAG.fullmatch(tag):
        return None
    if not hmac.compare_digest(tag.lower(), _tag(delivery_id, key)):
        return None
    return delivery_id
