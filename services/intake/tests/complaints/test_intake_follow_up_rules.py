"""The reopen window (§3) as a pure rule: where a customer message goes, the boundary (the
end of the window belongs to it), withdrawn complaints, and the follow-up's subject."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from complaint_runtime.problems import status_of
from intake.complaints.domain.errors import ComplaintWithdrawn
from intake.complaints.domain.follow_ups import (
    DEFAULT_REOPEN_WINDOW,
    follow_up_subject,
    route_message,
)

CLOSED_AT = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
WINDOW = timedelta(days=30)


def route(*, after: timedelta, status: str = "closed", reason: str = "confirmed") -> str:
    return route_message(
        status=status,
        close_reason=reason,
        closed_at=CLOSED_AT,
        received_at=CLOSED_AT + after,
        window=WINDOW,
    )


def test_the_default_window_is_30_days() -> None:
    assert DEFAULT_REOPEN_WINDOW == timedelta(days=30) == timedelta(hours=720)


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (timedelta(0), "reopen"),
        (timedelta(seconds=1), "reopen"),
        (timedelta(days=29, hours=23, minutes=59), "reopen"),
        (timedelta(days=30), "reopen"),  # exactly 30 days: the end belongs to the window
        (timedelta(days=30, microseconds=1), "follow_up"),
        (timedelta(days=31), "follow_up"),
        (timedelta(days=400), "follow_up"),
    ],
)
def test_within_the_window_a_message_reopens_after_it_opens_a_follow_up(
    after: timedelta, expected: str
) -> None:
    assert route(after=after) == expected


@pytest.mark.parametrize("reason", ["confirmed", "auto_closed", "duplicate"])
def test_every_closure_but_a_withdrawal_reopens_alike(reason: str) -> None:
    assert route(after=timedelta(days=1), reason=reason) == "reopen"
    assert route(after=timedelta(days=31), reason=reason) == "follow_up"


@pytest.mark.parametrize(
    "status", ["received", "assigned", "in_progress", "awaiting_customer", "resolved", "reopened"]
)
def test_an_open_complaint_takes_the_message_whenever_it_comes(status: str) -> None:
    assert route(after=timedelta(days=90), status=status) == "add"


@pytest.mark.parametrize("after", [timedelta(days=1), timedelta(days=60)])
def test_a_withdrawn_complaint_refuses_messages(after: timedelta) -> None:
    with pytest.raises(ComplaintWithdrawn) as refused:
        route(after=after, reason="withdrawn")
    assert status_of(refused.value) == 409
    assert refused.value.kind == "complaint-withdrawn"


def test_a_closed_complaint_without_a_closure_time_reopens() -> None:
    routed = route_message(
        status="closed", close_reason=None, closed_at=None, received_at=CLOSED_AT, window=WINDOW
    )
    assert routed == "reopen"


def test_the_follow_up_subject_is_marked_in_the_customers_language() -> None:
    assert follow_up_subject("Refund missing", language="en") == "Re: Refund missing"
    assert follow_up_subject("退款未到账", language="zh-CN") == "回复：退款未到账"
    assert follow_up_subject("Re: Refund missing", language="en") == "Re: Refund missing"
    assert follow_up_subject("回复：退款未到账", language="zh-CN") == "回复：退款未到账"
    long = follow_up_subject("x" * 200, language="en")
    assert (len(long), long[:4]) == (200, "Re: ")
