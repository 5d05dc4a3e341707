"""Survey links: a signed token naming one confirmation request, valid until it expires.

The token is an HS256 JWT (PyJWT). It holds no personal data and no state: single use is
the database's job (an answer is recorded once), so the same claims always give the same
token and the internal API can hand notify the link again without storing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import jwt

AUDIENCE = "feedback-survey"
ALGORITHM = "HS256"
MAX_TOKEN_LENGTH = 1024


class InvalidLink(Exception):
    """Forged, tampered, signed with another key, or not a survey token at all."""


class ExpiredLink(Exception):
    """Genuine, but past its expiry."""


@dataclass(frozen=True)
class LinkClaims:
    request_id: str
    complaint_id: str
    expires_at: datetime


def issue_link_token(
    *, secret: str, request_id: str, complaint_id: str, expires_at: datetime
) -> str:
    if not secret:
        raise ValueError("no link secret configured")
    claims = {
        "aud": AUDIENCE,
        "rid": request_id,
        "cid": complaint_id,
        "exp": int(expires_at.timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_link_token(token: str, *, secret: str, now: datetime | None = None) -> LinkClaims:
    """The claims of a genuine, unexpired token; the signature is checked before expiry, so
    a forged token is :class:`InvalidLink` even when its ``exp`` lies in the past."""
    if not secret or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidLink("not a survey token")
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["exp", "aud", "rid", "cid"], "verify_exp": False},
        )
    except jwt.InvalidTokenError as exc:
        raise InvalidLink("not a survey token") from exc
    rid, cid, exp = claims.get("rid"), claims.get("cid"), claims.get("exp")
    if not isinstance(rid, str) or not isinstance(cid, str) or not isinstance(exp, int):
        raise InvalidLink("malformed claims")
    expires_at = datetime.fromtimestamp(exp, UTC)
    if (now or datetime.now(UTC)) >= expires_at:
        raise ExpiredLink("the survey link has expired")
    return LinkClaims(request_id=rid, complaint_id=cid, expires_at=expires_at)


def survey_url(public_base_url: str, token: str) -> str:
    return f"{public_base_url.rstrip('/')}/v1/surveys/{token}"
