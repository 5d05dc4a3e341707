"""Survey link tokens: genuine, expired, tampered, signed with another secret."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from feedback.domain.links import (
    ExpiredLink,
    InvalidLink,
    LinkClaims,
    issue_link_token,
    verify_link_token,
)
from hypothesis import given
from hypothesis import strategies as st

SECRET = "s3cret-for-tests-only-0123456789abcdef"
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
EXPIRES = NOW + timedelta(days=7)
RID = "4f1d8a2e-0000-4000-8000-000000000001"
CID = "0195f3c2-7a10-7c4e-9b2d-3f6a8e1d2c40"


def token(secret: str = SECRET, expires_at: datetime = EXPIRES) -> str:
    return issue_link_token(secret=secret, request_id=RID, complaint_id=CID, expires_at=expires_at)


def test_round_trip() -> None:
    assert verify_link_token(token(), secret=SECRET, now=NOW) == LinkClaims(RID, CID, EXPIRES)


def test_same_claims_same_token() -> None:
    assert token() == token()


def test_expired() -> None:
    with pytest.raises(ExpiredLink):
        verify_link_token(token(), secret=SECRET, now=EXPIRES)
    with pytest.raises(ExpiredLink):
        verify_link_token(token(expires_at=NOW - timedelta(seconds=1)), secret=SECRET)


def test_wrong_secret() -> None:
    with pytest.raises(InvalidLink):
        verify_link_token(token(secret="another-secret-another-secret-xx"), secret=SECRET, now=NOW)


def test_expired_forgery_is_invalid_not_expired() -> None:
    forged = token(secret="another-secret-another-secret-xx", expires_at=NOW - timedelta(days=1))
    with pytest.raises(InvalidLink):
        verify_link_token(forged, secret=SECRET, now=NOW)


def test_tampered_payload() -> None:
    header, payload, signature = token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["rid"] = "4f1d8a2e-0000-4000-8000-000000000002"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidLink):
        verify_link_token(f"{header}.{forged_payload}.{signature}", secret=SECRET, now=NOW)


def test_alg_none_and_other_audiences_are_refused() -> None:
    unsigned = jwt.encode(
        {"aud": "feedback-survey", "rid": RID, "cid": CID, "exp": int(EXPIRES.timestamp())},
        key=None,
        algorithm="none",
    )
    staff = jwt.encode(
        {"aud": "other", "rid": RID, "cid": CID, "exp": int(EXPIRES.timestamp())},
        SECRET,
        algorithm="HS256",
    )
    for bad in (unsigned, staff, "", "x" * 5000, "a.b.c"):
        with pytest.raises(InvalidLink):
            verify_link_token(bad, secret=SECRET, now=NOW)


def test_no_secret_no_links() -> None:
    with pytest.raises(ValueError, match="no link secret"):
        token(secret="")
    with pytest.raises(InvalidLink):
        verify_link_token(token(), secret="", now=NOW)


@given(position=st.integers(min_value=0), replacement=st.sampled_from("AbZ09-_"))
def test_any_single_character_change_is_caught(position: int, replacement: str) -> None:
    original = token()
    position %= len(original)
    if original[position] == replacement or original[position] == ".":
        return
    changed = original[:position] + replacement + original[position + 1 :]
    try:
        claims = verify_link_token(changed, secret=SECRET, now=NOW)
    except (InvalidLink, ExpiredLink):
        return
    # base64url's last character has spare bits: a change there can decode to the same bytes.
    assert claims == LinkClaims(RID, CID, EXPIRES)
