"""Choosing the customer's channel, and the quiet hours (requirements §8)."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from notify.messages.domain.channel_choice import choose, explain, parse_order
from notify.messages.domain.quiet_hours import (
    QuietHours,
    held_until,
    parse_quiet_hours,
    zone_of,
)

ORDER = parse_order("email,sms")
SHANGHAI = zone_of("Asia/Shanghai", default="UTC")


def test_the_preferred_channel_comes_first_then_the_order() -> None:
    assert choose(preferred="sms", order=ORDER, unusable={}).channel == "sms"
    assert choose(preferred="email", order=ORDER, unusable={}).channel == "email"
    assert choose(preferred=None, order=ORDER, unusable={}).channel == "email"


@pytest.mark.parametrize("preferred", ["wechat", "app", "chat", "phone"])
def test_a_preferred_channel_without_an_adapter_falls_back(preferred: str) -> None:
    choice = choose(preferred=preferred, order=ORDER, unusable={"email": "no e-mail address"})
    assert choice.channel == "sms"


def test_a_channel_that_refused_the_message_is_not_tried_again() -> None:
    choice = choose(preferred="email", order=ORDER, unusable={}, failed=["email"])
    assert choice.channel == "sms"
    none = choose(preferred="email", order=ORDER, unusable={"sms": "no phone"}, failed=["email"])
    assert none.channel is None
    assert "email: failed for good for this message" in explain(none, "email")
    assert "sms: no phone" in explain(none, "email")


def test_an_unknown_channel_in_the_order_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown channel 'fax'"):
        parse_order("email,fax")
    with pytest.raises(ValueError, match="names no channel"):
        parse_order(" , ")
    assert parse_order("sms, email, sms") == ("sms", "email")


def _held(now: datetime, **kw: object) -> datetime | None:
    params: dict[str, object] = {
        "quiet": parse_quiet_hours("22:00-08:00"),
        "zone": SHANGHAI,
        "channel": "sms",
        "template": "resolution",
        "priority": "P3",
    } | kw
    return held_until(now=now, **params)  # type: ignore[arg-type]


def test_a_non_urgent_sms_at_night_is_held_until_eight_local() -> None:
    # 23:30 in Shanghai is 15:30 UTC; 08:00 Shanghai the next day is 00:00 UTC.
    assert _held(datetime(2026, 12, 7, 15, 30, tzinfo=UTC)) == datetime(
        2026, 12, 8, 0, 0, tzinfo=UTC
    )
    # 03:00 Shanghai (19:00 UTC the day before): 08:00 the same local day.
    assert _held(datetime(2026, 12, 6, 19, 0, tzinfo=UTC)) == datetime(
        2026, 12, 7, 0, 0, tzinfo=UTC
    )
    # 10:00 Shanghai: not held.
    assert _held(datetime(2026, 12, 7, 2, 0, tzinfo=UTC)) is None


def test_urgent_messages_email_and_no_quiet_hours_are_not_held() -> None:
    night = datetime(2026, 12, 7, 15, 30, tzinfo=UTC)
    assert _held(night, priority="P1") is None
    assert _held(night, template="tracking_code") is None
    assert _held(night, channel="email") is None
    assert _held(night, quiet=None) is None


@given(minute=st.integers(0, 24 * 60 - 1))
def test_the_quiet_hours_cover_exactly_their_span(minute: int) -> None:
    quiet = QuietHours(time(22, 0), time(8, 0))
    local = time(minute // 60, minute % 60)
    assert quiet.covers(local) == (local >= time(22, 0) or local < time(8, 0))


@given(hour=st.integers(0, 23), minute=st.integers(0, 59), day=st.integers(1, 28))
def test_a_held_message_goes_out_when_the_quiet_hours_end(hour: int, minute: int, day: int) -> None:
    now = datetime(2026, 3, day, hour, minute, tzinfo=UTC)
    until = _held(now)
    local = now.astimezone(SHANGHAI).time()
    if until is None:
        assert not QuietHours(time(22), time(8)).covers(local)
        return
    assert until > now
    assert until.astimezone(SHANGHAI).time() == time(8, 0)
    assert (until - now).total_seconds() <= 10 * 3600


@pytest.mark.parametrize("text", ["22-08", "25:00-08:00", "08:00-08:00", "soon"])
def test_bad_quiet_hours_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="quiet hours"):
        parse_quiet_hours(text)
    assert parse_quiet_hours("") is None
