"""What each vendor's answer means: ok, retry later, or failed for good."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from notify.robots.domain.notice import Vendor
from notify.robots.domain.outcomes import RobotOutcome, classify, transport_failure


def answer(**fields: object) -> bytes:
    return json.dumps(fields).encode()


@pytest.mark.parametrize(
    ("vendor", "status", "body", "kind", "reason", "code"),
    [
        ("wecom", 200, answer(errcode=0, errmsg="ok"), "ok", "ok", 0),
        (
            "wecom",
            200,
            answer(errcode=45009, errmsg="api freq out of limit"),
            "retry",
            "rate_limited",
            45009,
        ),
        ("wecom", 200, answer(errcode=-1, errmsg="system busy"), "retry", "vendor_busy", -1),
        (
            "wecom",
            200,
            answer(errcode=93000, errmsg="invalid webhook url"),
            "failed",
            "bad_key",
            93000,
        ),
        (
            "wecom",
            200,
            answer(errcode=40008, errmsg="invalid message type"),
            "failed",
            "vendor_40008",
            40008,
        ),
        ("dingtalk", 200, answer(errcode=0, errmsg="ok"), "ok", "ok", 0),
        (
            "dingtalk",
            200,
            answer(errcode=130101, errmsg="send too fast"),
            "retry",
            "rate_limited",
            130101,
        ),
        (
            "dingtalk",
            200,
            answer(errcode=410100, errmsg="发送速度太快而限流"),
            "retry",
            "rate_limited",
            410100,
        ),
        (
            "dingtalk",
            200,
            answer(errcode=310000, errmsg="sign not match"),
            "failed",
            "bad_signature_or_security",
            310000,
        ),
        (
            "dingtalk",
            200,
            answer(errcode=300001, errmsg="token is not exist"),
            "failed",
            "bad_token",
            300001,
        ),
        (
            "dingtalk",
            200,
            answer(errcode=430102, errmsg="含有不合适的文本"),
            "failed",
            "vendor_430102",
            430102,
        ),
        ("feishu", 200, answer(code=0, msg="success", data={}), "ok", "ok", 0),
        ("feishu", 200, answer(StatusCode=0, StatusMessage="success"), "ok", "ok", 0),
        (
            "feishu",
            200,
            answer(code=11232, msg="frequency limited"),
            "retry",
            "rate_limited",
            11232,
        ),
        (
            "feishu",
            400,
            answer(code=19021, msg="sign match fail"),
            "failed",
            "bad_signature",
            19021,
        ),
        ("feishu", 200, answer(code=9499, msg="Bad Request"), "failed", "bad_payload", 9499),
        (
            "feishu",
            200,
            answer(code=19024, msg="Key Words Not Found"),
            "failed",
            "keyword_missing",
            19024,
        ),
        # Feishu's current answers carry both; "code" decides.
        ("feishu", 200, answer(code=19021, StatusCode=0), "failed", "bad_signature", 19021),
    ],
)
def test_vendor_codes(
    vendor: Vendor, status: int, body: bytes, kind: str, reason: str, code: int
) -> None:
    outcome = classify(vendor, http_status=status, body=body)
    assert (outcome.kind, outcome.reason, outcome.vendor_code) == (kind, reason, code)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
@pytest.mark.parametrize("vendor", ["wecom", "dingtalk", "feishu"])
def test_overload_and_server_errors_are_retried_whatever_the_body(
    vendor: Vendor, status: int
) -> None:
    outcome = classify(vendor, http_status=status, body=answer(errcode=93000, code=9499))
    assert outcome.kind == "retry"
    assert outcome.http_status == status


@pytest.mark.parametrize(
    ("status", "body", "kind", "reason"),
    [
        (200, b"<html>proxy</html>", "retry", "unreadable_answer"),
        (200, b"[]", "retry", "unreadable_answer"),
        (200, answer(errmsg="ok"), "failed", "unreadable_answer"),
        (200, answer(errcode=True), "failed", "unreadable_answer"),
        (404, b"not found", "failed", "http_404"),
        (403, b"", "failed", "http_403"),
    ],
)
def test_answers_without_a_result_code(status: int, body: bytes, kind: str, reason: str) -> None:
    outcome = classify("wecom", http_status=status, body=body)
    assert (outcome.kind, outcome.reason) == (kind, reason)


def test_the_vendor_message_is_kept_short() -> None:
    outcome = classify("wecom", http_status=200, body=answer(errcode=40058, errmsg="x" * 999))
    assert outcome.detail == "x" * 200


@given(
    vendor=st.sampled_from(["wecom", "dingtalk", "feishu"]),
    status=st.integers(min_value=100, max_value=599),
    body=st.binary(),
)
def test_any_answer_is_classified_without_raising(vendor: Vendor, status: int, body: bytes) -> None:
    assert classify(vendor, http_status=status, body=body).kind in {"ok", "retry", "failed"}


@given(
    vendor=st.sampled_from(["wecom", "dingtalk", "feishu"]),
    status=st.integers(min_value=100, max_value=599),
    body=st.binary(),
)
def test_only_a_zero_code_is_ok(vendor: Vendor, status: int, body: bytes) -> None:
    outcome = classify(vendor, http_status=status, body=body)
    assert (outcome.kind == "ok") == (outcome.vendor_code == 0 and status < 500 and status != 429)


def test_transport_failures_are_retried_and_say_whether_the_notice_may_be_out() -> None:
    assert transport_failure(reason="connection", sent=False) == RobotOutcome(
        "retry", "connection", maybe_delivered=False
    )
    assert transport_failure(reason="timeout", sent=True).maybe_delivered
