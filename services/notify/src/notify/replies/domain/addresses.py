"""Reply addresses: ``reply+<complaint_id>.<tag>@<domain>``, one per complaint.

The tag is a truncated HMAC-SHA256 of the complaint id under a key only notify holds, so
an address cannot be made up for another complaint: a guessed or altered address is
refused at RCPT (550) and nothing reaches intake. 20 hex digits (80 bits) keep the local
part within RFC 5321's 64 characters (6 + 36 + 1 + 20 = 63) for a UUID complaint id.
Addresses are compared in lower case: mail systems may change the case of a local part.
"""

from __future__ import annotations

import hashlib
import hmac
import re

TAG_HEX = 20
MAX_LOCAL_PART = 64
PREFIX = "reply+"
BOUNCE_LOCAL_PART = "bounces"
_COMPLAINT_ID = re.compile(r"[0-9a-f][0-9a-f-]{0,35}")
# Checked before the comparison: hmac.compare_digest raises TypeError on a non-ASCII str.
_TAG = re.compile(rf"[0-9a-f]{{{TAG_HEX}}}")


def reply_tag(complaint_id: str, *, key: bytes) -> str:
    """The complaint's tag: the first :data:`TAG_HEX` hex digits of its HMAC."""
    digest = hmac.new(key, f"reply:{complaint_id}".encode(), hashlib.sha256).hexdigest()
    return digest[:TAG_HEX]


def make_reply_address(complaint_id: str, *, key: bytes, domain: str) -> str:
    """The address a customer's reply about ``complaint_id`` is sent to."""
    complaint = complaint_id.lower()
    if not _COMPLAINT_ID.fullmatch(complaint):
        raise ValueError("a complaint id is up to 36 hex digits and dashes")
    return f"{PREFIX}{complaint}.{reply_tag(complaint, key=key)}@{domain.lower()}"


def parse_reply_address(address: str, *, key: bytes, domain: str) -> str | None:
    """The complaint id an address names when its tag is right and its domain ours; None
    for anything else, whatever characters it holds (the ASCII hex tag compared in
    constant time)."""
    local, at, host = address.strip().strip("<>").lower().rpartition("@")
    if not at or host != domain.lower() or len(local) > MAX_LOCAL_PART:
        return None
    if not local.startswith(PREFIX):
        return None
    complaint_id, dot, tag = local[len(PREFIX) :].rpartition(".")
    if not dot or not _COMPLAINT_ID.fullmatch(complaint_id) or not _TAG.fullmatch(tag):
        return None
    if not hmac.compare_digest(tag, reply_tag(complaint_id, key=key)):
        return None
    return complaint_id


def bounce_address(domain: str) -> str:
    """Where delivery status notifications are sent (the envelope sender of notify's
    mail, when the mail system is set up so)."""
    return f"{BOUNCE_LOCAL_PART}@{domain.lower()}"


def is_bounce_address(address: str, *, domain: str) -> bool:
    return address.strip().strip("<>").lower() == bounce_address(domain)
