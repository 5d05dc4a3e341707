"""Which messages a suppression stops, and the unsubscribe link's signed token."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from notify.suppressions.domain.rules import (
    TOKEN_TAG_HEX,
    suppression_applies,
    unsubscribe_token,
    verify_unsubscribe_token,
)

KEY = b"u" * 32
TRANSACTIONAL = [
    "acknowledgement",
    "first_response",
    "agent_reply",
    "resolution",
    "survey_invitation",
    "withdrawal_confirmation",
]


@pytest.mark.parametrize("template", [*TRANSACTIONAL, "nps_invitation"])
def test_a_bounce_stops_every_message(template: str) -> None:
    assert suppression_applies("bounce", template)


@pytest.mark.parametrize("template", TRANSACTIONAL)
def test_an_unsubscribe_lets_notices_about_the_complaint_through(template: str) -> None:
    assert not suppression_applies("unsubscribe", template)


def test_an_unsubscribe_stops_the_nps_invitation() -> None:
    assert suppression_applies("unsubscribe", "nps_invitation")


def test_an_unknown_reason_stops_nothing() -> None:
    assert not suppression_applies("complaint", "nps_invitation")


@given(st.uuids().map(str))
def test_a_token_names_its_delivery(delivery_id: str) -> None:
    assert verify_unsubscribe_token(unsubscribe_token(delivery_id, key=KEY), key=KEY) == delivery_id


@given(st.uuids().map(str), st.integers(0, TOKEN_TAG_HEX - 1), st.sampled_from("0123456789abcdef"))
def test_a_changed_token_names_nothing(delivery_id: str, position: int, digit: str) -> None:
    token = unsubscribe_token(delivery_id, key=KEY)
    start = len(token) - TOKEN_TAG_HEX
    changed = token[: start + position] + digit + token[start + position + 1 :]
    expected = delivery_id if changed == token else None
    assert verify_unsubscribe_token(changed, key=KEY) == expected


@given(st.uuids().map(str), st.uuids().map(str))
def test_a_tag_does_not_fit_another_delivery(first: str, second: str) -> None:
    tag = unsubscribe_token(first, key=KEY).rpartition(".")[2]
    assert verify_unsubscribe_token(f"{second}.{tag}", key=KEY) == (
        first if first == second else None
    )


@pytest.mark.parametrize("token", ["", ".", "abc", "a.b", "x" * 100])
def test_garbage_names_nothing(token: str) -> None:
    assert verify_unsubscribe_token(token, key=KEY) is None


@pytest.mark.parametrize("tag", ["é" * TOKEN_TAG_HEX, "０" * TOKEN_TAG_HEX, "g" * TOKEN_TAG_HEX])
def test_a_tag_of_other_characters_names_nothing(tag: str) -> None:
    # Non-ASCII: hmac.compare_digest would raise TypeError (a 500 on the unsubscribe page).
    assert verify_unsubscribe_token(f"0195f3c2-7a10-7c4e-9b2d-3f6a8e1d2c40.{tag}", key=KEY) is None


def test_another_key_names_nothing() -> None:
    token = unsubscribe_token("0195f3c2-7a10-7c4e-9b2d-3f6a8e1d2c40", key=KEY)
    assert verify_unsubscribe_token(token, key=b"v" * 32) is None
