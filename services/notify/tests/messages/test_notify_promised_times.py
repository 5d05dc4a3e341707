"""The acknowledgement's promised times as pure rules: when the delivery waits for the SLA
clocks (quick retries inside ACK_WAIT_FOR_DUE_S, never for a complaint that gets none, never
for one of unknown age), which deadlines may be promised (only those ahead), and how they
read in the complaint's zone ("12月7日 14:30" / "7 Dec 14:30", to the minute)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from complaint_contracts.events import TrackingCodeRequested
from complaint_contracts.examples import example_for
from notify.messages.domain.planning import plan_deliveries
from notify.messages.domain.promised_times import (
    MAX_RETRY_S,
    MIN_RETRY_S,
    ahead,
    display_zone,
    format_due,
    retry_delay_s,
    wait_for_due_times,
)

RECEIVED = datetime(2026, 12, 7, 4, 30, tzinfo=UTC)
DUE = datetime(2026, 12, 7, 6, 30, 40, tzinfo=UTC)  # 14:30:40 in Shanghai
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _wait(
    *, age_s: float, due: datetime | None = None, expected: bool = True, window_s: float = 30
) -> float | None:
    return wait_for_due_times(
        first_response_due_at=due,
        clocks_expected=expected,
        received_at=RECEIVED,
        now=RECEIVED + timedelta(seconds=age_s),
        window_s=window_s,
    )


@pytest.mark.parametrize(
    ("age_s", "delay_s"), [(0.0, 0.25), (0.5, 0.25), (2.0, 0.5), (6.0, 1.5), (8.0, 2.0), (29, 2.0)]
)
def test_the_retry_is_quick_at_first_and_slower_as_the_complaint_ages(
    age_s: float, delay_s: float
) -> None:
    assert retry_delay_s(age_s) == pytest.approx(delay_s)
    assert MIN_RETRY_S <= retry_delay_s(age_s) <= MAX_RETRY_S


def test_it_waits_only_while_the_clocks_are_expected_and_the_complaint_is_young() -> None:
    assert _wait(age_s=0.3) == pytest.approx(0.25)
    assert _wait(age_s=29.5) == pytest.approx(0.5)  # never past the window's end
    assert _wait(age_s=29.9) is None  # less than a retry left: send now
    assert _wait(age_s=30.0) is None  # the window is over: send without times
    assert _wait(age_s=0.3, due=DUE) is None  # the due time is there: send it
    assert _wait(age_s=0.3, expected=False) is None  # a duplicate gets no clocks
    assert _wait(age_s=0.3, window_s=0) is None  # ACK_WAIT_FOR_DUE_S=0: never wait
    assert _wait(age_s=-1.0) == pytest.approx(0.25)  # notify's clock a little behind
    unknown_age = wait_for_due_times(
        first_response_due_at=None,
        clocks_expected=True,
        received_at=None,  # an intake that does not say
        now=RECEIVED,
        window_s=30,
    )
    assert unknown_age is None


@pytest.mark.parametrize("age_s", [-5.0, -0.000001, 0.0, 0.3])
@pytest.mark.parametrize("window_s", [0.0, -1.0])
def test_no_window_never_waits_even_with_notifys_clock_behind(
    age_s: float, window_s: float
) -> None:
    assert _wait(age_s=age_s, window_s=window_s) is None


@pytest.mark.parametrize(
    ("age_s", "window_s"),
    [(29.76, 30), (29.999999, 30), (0.0, 0.1), (-3.0, 0.2), (0.0, 0.000001)],
)
def test_a_wait_is_never_shorter_than_the_minimum_retry(age_s: float, window_s: float) -> None:
    assert _wait(age_s=age_s, window_s=window_s) is None


@pytest.mark.parametrize("age_s", [-3.0, 0.0, 0.3, 5.0, 29.0, 29.75])
def test_any_wait_is_between_the_minimum_retry_and_the_windows_end(age_s: float) -> None:
    delay = _wait(age_s=age_s)
    assert delay is not None
    assert MIN_RETRY_S <= delay <= min(MAX_RETRY_S, 30 - max(age_s, 0.0))


def test_only_a_deadline_still_ahead_is_promised() -> None:
    assert ahead(DUE, now=DUE - timedelta(seconds=1)) == DUE
    assert ahead(DUE, now=DUE) is None
    assert ahead(None, now=DUE) is None


def test_due_times_read_in_the_complaints_zone_to_the_minute() -> None:
    assert format_due(DUE, SHANGHAI, "zh-CN") == "12月7日 14:30"
    assert format_due(DUE, SHANGHAI, "en") == "7 Dec 14:30"
    berlin = display_zone("Europe/Berlin", fallback="Asia/Shanghai")
    assert format_due(DUE, berlin, "en") == "7 Dec 07:30"
    late = datetime(2026, 12, 31, 17, 5, tzinfo=UTC)  # 01:05 on New Year's Day in Shanghai
    assert format_due(late, SHANGHAI, "zh-CN") == "1月1日 01:05"


@pytest.mark.parametrize("name", [None, "", "Mars/Olympus", "../../etc/passwd"])
def test_an_unknown_zone_falls_back_to_notifys(name: str | None) -> None:
    assert str(display_zone(name, fallback="Asia/Shanghai")) == "Asia/Shanghai"


def test_a_lost_link_code_is_planned_for_the_customer_without_the_code() -> None:
    event = example_for(TrackingCodeRequested)
    assert isinstance(event, TrackingCodeRequested)
    [planned] = plan_deliveries(event)
    assert (planned.template, planned.recipient_role, planned.recipient_user) == (
        "tracking_code",
        "customer",
        None,
    )
    assert planned.context == {
        "request_id": event.request_id,
        "expires_at": event.expires_at.isoformat(),
    }
