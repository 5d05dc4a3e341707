"""Standard Webhooks signing: every signature verifies with the spec's own library."""

from __future__ import annotations

import base64
import string
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from notify.webhooks.domain.signing import (
    WebhookSecret,
    generate_secret,
    parse_secret,
    signature,
    signed_content,
    unix_seconds,
    webhook_headers,
)
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

ids = st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=1, max_size=255)
keys = st.binary(min_size=24, max_size=64)


def _now() -> datetime:
    # The library refuses timestamps more than five minutes from its own clock.
    return datetime.now(UTC)


def test_a_generated_secret_has_the_spec_form_and_32_random_bytes() -> None:
    secret = generate_secret()
    text = str(secret)
    assert text.startswith("whsec_")
    assert len(base64.b64decode(text.removeprefix("whsec_"))) == 32
    assert parse_secret(text) == secret
    assert generate_secret() != secret


def test_the_random_source_is_injectable() -> None:
    secret = generate_secret(token_bytes=lambda n: b"\x01" * n)
    assert secret.key == b"\x01" * 32


def test_a_secret_never_shows_in_its_repr() -> None:
    secret = WebhookSecret(b"k" * 32)
    assert "k" * 8 not in repr(secret)
    assert base64.b64encode(b"k" * 32).decode() not in repr(secret)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", "starts with"),
        ("whsec_", "bytes"),
        ("whsec_not base64!!", "base64"),
        ("whsec_" + base64.b64encode(b"x" * 23).decode(), "24 to 64 bytes"),
        ("whsec_" + base64.b64encode(b"x" * 65).decode(), "24 to 64 bytes"),
        ("whsec_" + base64.b64encode(b"x" * 32).decode().rstrip("="), "base64"),
        ("whsec_ü" + base64.b64encode(b"x" * 32).decode(), "base64"),
    ],
)
def test_parse_refuses_what_is_not_a_spec_secret(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_secret(text)


@given(keys)
def test_a_secret_round_trips_through_its_text(key: bytes) -> None:
    assert parse_secret(str(WebhookSecret(key))).key == key


def test_the_signed_content_is_id_dot_timestamp_dot_body() -> None:
    assert signed_content(msg_id="msg_1", timestamp=1700000000, body=b'{"a":1}') == (
        b'msg_1.1700000000.{"a":1}'
    )


def test_a_known_vector_from_the_spec_library() -> None:
    # Same inputs through the reference implementation's sign(): byte-for-byte equal.
    secret = parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    at = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    expected = Webhook(str(secret)).sign(
        "msg_p5jXN8AQM9LWM0D4loKWxJek", at, b'{"test": 2432232314}'
    )
    assert (
        signature(
            secret,
            msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
            timestamp=unix_seconds(at),
            body=b'{"test": 2432232314}',
        )
        == expected
    )


@given(keys, ids, st.binary(max_size=2048))
def test_every_signature_verifies_with_the_standard_library(
    key: bytes, msg_id: str, body: bytes
) -> None:
    secret = WebhookSecret(key)
    headers = webhook_headers([secret], msg_id=msg_id, at=_now(), body=body)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-id"] == msg_id
    Webhook(str(secret)).verify(body, headers, json_parse=False)


@given(keys, keys, ids, st.binary(max_size=512))
def test_during_a_rotation_both_secrets_verify(
    new: bytes, old: bytes, msg_id: str, body: bytes
) -> None:
    newest_first = [WebhookSecret(new), WebhookSecret(old)]
    headers = webhook_headers(newest_first, msg_id=msg_id, at=_now(), body=body)
    parts = headers["webhook-signature"].split(" ")
    assert len(parts) == 2
    assert all(p.startswith("v1,") for p in parts)
    for secret in newest_first:
        Webhook(str(secret)).verify(body, headers, json_parse=False)


def test_the_newest_secret_signs_first() -> None:
    new, old = WebhookSecret(b"n" * 32), WebhookSecret(b"o" * 32)
    headers = webhook_headers([new, old], msg_id="d1", at=_now(), body=b"{}")
    first, second = headers["webhook-signature"].split(" ")
    ts = int(headers["webhook-timestamp"])
    assert first == signature(new, msg_id="d1", timestamp=ts, body=b"{}")
    assert second == signature(old, msg_id="d1", timestamp=ts, body=b"{}")


def test_a_third_secret_does_not_verify() -> None:
    headers = webhook_headers([WebhookSecret(b"n" * 32)], msg_id="d1", at=_now(), body=b"{}")
    with pytest.raises(WebhookVerificationError):
        Webhook(str(WebhookSecret(b"x" * 32))).verify(b"{}", headers, json_parse=False)


@given(keys, ids, st.binary(min_size=1, max_size=512), st.data())
def test_a_tampered_body_does_not_verify(
    key: bytes, msg_id: str, body: bytes, data: st.DataObject
) -> None:
    secret = WebhookSecret(key)
    headers = webhook_headers([secret], msg_id=msg_id, at=_now(), body=body)
    tampered = data.draw(st.binary(max_size=512).filter(lambda b: b != body))
    with pytest.raises(WebhookVerificationError):
        Webhook(str(secret)).verify(tampered, headers, json_parse=False)


@given(keys, ids, st.integers(min_value=1, max_value=240))
def test_a_tampered_timestamp_or_id_does_not_verify(key: bytes, msg_id: str, shift: int) -> None:
    secret = WebhookSecret(key)
    headers = webhook_headers([secret], msg_id=msg_id, at=_now(), body=b"{}")
    moved = {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) - shift)}
    with pytest.raises(WebhookVerificationError):
        Webhook(str(secret)).verify(b"{}", moved, json_parse=False)
    renamed = {**headers, "webhook-id": msg_id + "x"}
    with pytest.raises(WebhookVerificationError):
        Webhook(str(secret)).verify(b"{}", renamed, json_parse=False)


def test_the_message_id_is_the_same_on_every_retry_and_the_timestamp_is_the_attempts() -> None:
    secret = WebhookSecret(b"s" * 32)
    first = webhook_headers([secret], msg_id="delivery-1", at=_now(), body=b"{}")
    later = webhook_headers(
        [secret], msg_id="delivery-1", at=_now() + timedelta(seconds=90), body=b"{}"
    )
    assert first["webhook-id"] == later["webhook-id"] == "delivery-1"
    assert int(later["webhook-timestamp"]) - int(first["webhook-timestamp"]) in (89, 90, 91)


def test_the_timestamp_is_whole_seconds_whatever_the_zone() -> None:
    at = datetime(2026, 1, 1, 8, 0, 0, 999_999, tzinfo=timezone(timedelta(hours=8)))
    assert unix_seconds(at) == int(datetime(2026, 1, 1, 0, 0, tzinfo=UTC).timestamp())
    with pytest.raises(ValueError, match="timezone-aware"):
        unix_seconds(datetime(2026, 1, 1))  # naive on purpose: the case under test


@pytest.mark.parametrize("msg_id", ["", "a.b", "a b", "a\nb", "é", "x" * 256])
def test_an_id_that_is_not_header_safe_or_splits_two_ways_is_refused(msg_id: str) -> None:
    with pytest.raises(ValueError, match="message id"):
        webhook_headers([WebhookSecret(b"s" * 32)], msg_id=msg_id, at=_now(), body=b"")


def test_no_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one secret"):
        webhook_headers([], msg_id="d1", at=_now(), body=b"")
