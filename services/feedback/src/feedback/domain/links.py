"""Survey links: a signed token naming one confirmation request (or one NPS request),
valid until it expires.

The token is an HS256 JWT (PyJWT). It holds no personal data and no state: single use is
the database's job (an answer is recorded once), so the same claims always give the same
token and the internal API can hand notify the link again without storing it. The two
kinds of link have their own audience, so an NPS link never opens a confirmation survey
and the other way round.

The link customers get opens a page (``/s/<token>``, ``/n/<token>``), which moves the
token into a cookie and redirects to an address without it; the JSON API keeps
``/v1/surveys/<token>``. Log lines never show a token (:func:`redact_link_paths`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import jwt

AUDIENCE = "feedback-survey"
NPS_AUDIENCE = "feedback-nps"
ALGORITHM = "HS256"
MAX_TOKEN_LENGTH = 1024
SURVEY_LINK_PREFIX: Final = "/s/"
NPS_LINK_PREFIX: Final = "/n/"
_TOKEN_PATHS: Final = re.compile(r"(/s/|/n/|/v1/surveys/)[^/?#\s\"']+")


class InvalidLink(Exception):
    """Forged, tampered, signed with another key, or not a survey token at all."""


@dataclass(frozen=True)
class LinkClaims:
    request_id: str
    complaint_id: str
    expires_at: datetime
    language: str | None = None
    """The customer's language when the link was issued: even a page refusing an expired
    link speaks it."""


class ExpiredLink(Exception):
    """Genuine, but past its expiry; ``claims`` says what it was for."""

    def __init__(self, message: str, claims: LinkClaims | None = None) -> None:
        super().__init__(message)
        self.claims = claims


def issue_link_token(
    *,
    secret: str,
    request_id: str,
    complaint_id: str,
    expires_at: datetime,
    audience: str = AUDIENCE,
    language: str | None = None,
) -> str:
    if not secret:
        raise ValueError("no link secret configured")
    claims: dict[str, object] = {
        "aud": audience,
        "rid": request_id,
        "cid": complaint_id,
        "exp": int(expires_at.timestamp()),
    }
    if language is not None:
        claims["lng"] = language
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_link_token(
    token: str, *, secret: str, now: datetime | None = None, audience: str = AUDIENCE
) -> LinkClaims:
    """The claims of a genuine, unexpired token; the signature is checked before expiry, so
    a forged token is :class:`InvalidLink` even when its ``exp`` lies in the past."""
    if not secret or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidLink("not a survey token")
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=audience,
            options={"require": ["exp", "aud", "rid", "cid"], "verify_exp": False},
        )
    except jwt.InvalidTokenError as exc:
        raise InvalidLink("not a survey token") from exc
    rid, cid, exp = claims.get("rid"), claims.get("cid"), claims.get("exp")
    if not isinstance(rid, str) or not isinstance(cid, str) or not isinstance(exp, int):
        raise InvalidLink("malformed claims")
    language = claims.get("lng")
    found = LinkClaims(
        request_id=rid,
        complaint_id=cid,
        expires_at=datetime.fromtimestamp(exp, UTC),
        language=language if isinstance(language, str) else None,
    )
    if (now or datetime.now(UTC)) >= found.expires_at:
        raise ExpiredLink("the survey link has expired", found)
    return found


def survey_url(public_base_url: str, token: str) -> str:
    """The survey page's link (the customer's browser), also JSON for a front end that asks
    for it (content negotiation)."""
    return f"{public_base_url.rstrip('/')}{SURVEY_LINK_PREFIX}{token}"


def nps_url(public_base_url: str, token: str) -> str:
    return f"{public_base_url.rstrip('/')}{NPS_LINK_PREFIX}{token}"


def redact_link_paths(text: str) -> str:
    """``text`` with the token of every link path replaced by ``[redacted]`` (log lines)."""
    return _TOKEN_PATHS.sub(lambda match: f"{match.group(1)}[redacted]", text)
