"""WorkingCalendar: hand-computed deadlines, DST, holidays, make-up days and the algebra.

Deadlines below are computed by hand from the mainland-China schedule that
``chinese_calendar`` 1.11 ships for 2025 and 2026, with the default hours 09:00–12:00 and
13:30–18:00 (7.5 h = 27 000 s a working day):

* 2025: National Day + Mid-autumn Wed 1 – Wed 8 Oct; make-up working days Sun 28 Sep and
  Sat 11 Oct.
* 2026: Mid-autumn Fri 25 – Sun 27 Sep (make-up Sun 20 Sep); National Day Thu 1 – Wed 7 Oct
  (make-up Sat 10 Oct). So Fri 25 Sep 2026 is itself a holiday and Sun 27 Sep is not worked.
"""

from __future__ import annotations

import time as timer
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sla_watch.calendars.domain.business_calendar import (
    NoWorkingTimeError,
    WorkingCalendar,
    WorkingInterval,
    intervals,
)
from sla_watch.calendars.domain.calendar import BusinessCalendar
from sla_watch.calendars.domain.holidays_cn import CN_DEFAULT_HOURS, china_calendar, china_holidays
from sla_watch.calendars.domain.holidays_ics import holidays_from_ics
from sla_watch.clocks.domain.clock import (
    ClockView,
    due_at,
    elapsed_seconds,
    resume,
    threshold_instant,
)

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = 3600
WORKING_DAY = 27_000  # 7.5 h
CN = china_calendar()


def sh(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=SH)


def berlin(y: int, mo: int, d: int, h: int = 0, mi: int = 0, *, fold: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=BERLIN, fold=fold)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


# -- the China schedule -------------------------------------------------------------------


def test_chinese_calendar_2026_national_day_as_the_tests_read_it() -> None:
    data = china_holidays(2026, 2026)
    national = sorted(d for d, name in data.holidays.items() if name == "National Day")
    assert national == [date(2026, 10, d) for d in range(1, 8)]
    mid_autumn = sorted(d for d, name in data.holidays.items() if name == "Mid-autumn Festival")
    assert mid_autumn == [date(2026, 9, d) for d in (25, 26, 27)]
    assert data.makeup_workdays[date(2026, 9, 20)] == "National Day"  # a Sunday
    assert data.makeup_workdays[date(2026, 10, 10)] == "National Day"  # a Saturday
    assert CN.intervals_on(date(2026, 9, 20)) == intervals(*CN_DEFAULT_HOURS)
    assert CN.intervals_on(date(2026, 9, 27)) == ()
    assert CN.intervals_on(date(2026, 10, 8)) == intervals("09:00-12:00", "13:30-18:00")


def test_china_data_is_plain_sets_for_every_covered_year() -> None:
    data = china_holidays()
    assert (data.first_year, data.last_year) == (2004, 2026)
    assert all(isinstance(d, date) for d in data.holiday_dates | data.makeup_dates)
    assert all(d.weekday() >= 5 for d in data.makeup_dates)
    assert not data.holiday_dates & data.makeup_dates
    with pytest.raises(ValueError, match="covers 2004"):
        china_holidays(2003, 2026)


def test_working_time_of_2026_matches_chinese_calendar_workday_count() -> None:
    workdays = chinese_calendar.get_workdays(date(2026, 1, 1), date(2026, 12, 31))
    assert CN.elapsed(sh(2026, 1, 1), sh(2027, 1, 1)) == len(workdays) * WORKING_DAY


# -- hand-computed deadlines --------------------------------------------------------------


def test_p3_received_on_the_mid_autumn_friday_2026_before_national_day() -> None:
    received = sh(2026, 9, 25, 16, 0)  # Fri, a holiday: counting starts Mon 28 Sep 09:00
    # Resolution, 3 working days = 3 × 7.5 h: Mon 28, Tue 29, Wed 30 Sep → Wed 18:00 sharp
    # (the earliest instant, not Thu 8 Oct 09:00).
    assert CN.add(received, 3 * WORKING_DAY) == sh(2026, 9, 30, 18, 0)
    # First response, 24 business hours: 22.5 h by Wed 30 Sep 18:00, Oct 1-7 off,
    # 1.5 h more on Thu 8 Oct from 09:00 → 10:30.
    assert CN.add(received, 24 * HOUR) == sh(2026, 10, 8, 10, 30)
    # 5 working days (P4): + Thu 8, Fri 9 Oct → Fri 9 Oct 18:00;
    # the 6th is the make-up Saturday 10 Oct, the 7th Mon 12 Oct.
    assert CN.add(received, 5 * WORKING_DAY) == sh(2026, 10, 9, 18, 0)
    assert CN.add(received, 6 * WORKING_DAY) == sh(2026, 10, 10, 18, 0)
    assert CN.add(received, 6 * WORKING_DAY + 1) == sh(2026, 10, 12, 9, 0, 1)
    assert CN.elapsed(received, sh(2026, 10, 8, 10, 30)) == 24 * HOUR


def test_p3_received_friday_before_national_day_2025_with_a_make_up_sunday() -> None:
    received = sh(2025, 9, 26, 16, 0)  # Fri: 2 h left today
    # Sat 27 off; Sun 28 make-up (7.5 h, 9.5); Mon 29 (17); Tue 30 needs 7 h more:
    # 09:00-12:00 (3 h) + 13:30-17:30 (4 h).
    assert CN.add(received, 24 * HOUR) == sh(2025, 9, 30, 17, 30)
    # 3 working days = 22.5 h: 17 h by Mon evening, 5.5 h on Tue → 16:00.
    assert CN.add(received, 3 * WORKING_DAY) == sh(2025, 9, 30, 16, 0)
    # Then Oct 1-8 off; 4 × 7.5 = 30 h: 24.5 by Tue 30 Sep 18:00, 5.5 h on Thu 9 Oct → 16:00.
    assert CN.add(received, 4 * WORKING_DAY) == sh(2025, 10, 9, 16, 0)
    # Make-up Saturday 11 Oct: 2 + 4 × 7.5 (28 Sep..30 Sep, 9 Oct) + 7.5 (10 Oct) = 39.5 h.
    assert CN.add(received, int(39.5 * HOUR) + 60) == sh(2025, 10, 11, 9, 1)


def test_p3_received_friday_2026_09_18_with_the_make_up_sunday_after_it() -> None:
    received = sh(2026, 9, 18, 16, 0)  # 2 h Fri; Sun 20 Sep make-up; Mon 21; Tue 22 ...
    assert CN.add(received, 24 * HOUR) == sh(2026, 9, 22, 17, 30)
    assert CN.add(received, 3 * WORKING_DAY) == sh(2026, 9, 22, 16, 0)
    assert CN.elapsed(received, sh(2026, 9, 21, 0, 0)) == 2 * HOUR + WORKING_DAY


def test_exact_to_the_second_inside_working_hours_and_across_lunch() -> None:
    start = sh(2026, 9, 28, 11, 59, 59)
    assert CN.add(start, 1) == sh(2026, 9, 28, 12, 0)
    assert CN.add(start, 2) == sh(2026, 9, 28, 13, 30, 1)
    assert CN.elapsed(start, sh(2026, 9, 28, 13, 30, 1)) == 2
    with_micros = sh(2026, 9, 28, 9, 0, 0) + timedelta(microseconds=250_000)
    assert CN.elapsed(with_micros, sh(2026, 9, 28, 9, 0, 2)) == 1  # floor of 1.75 s
    assert CN.add(with_micros, 1) == with_micros + timedelta(seconds=1)


def test_clock_rules_accept_the_calendar() -> None:
    calendar: BusinessCalendar = CN
    view = ClockView(started_at=sh(2026, 9, 25, 16, 0), target_seconds=3 * WORKING_DAY)
    assert due_at(view, calendar=calendar) == sh(2026, 9, 30, 18, 0)
    # 50 % = 11.25 h: Mon 28 Sep (7.5 h), Tue 29 09:00-12:00 (3 h), 13:30 + 0.75 h → 14:15.
    assert threshold_instant(view, 50, calendar=calendar) == sh(2026, 9, 29, 14, 15)
    # Paused Tue 29 Sep 10:00 → resumed Thu 8 Oct 10:00: 2 + 4.5 + 7.5 + 1 = 15 h paused.
    paused = ClockView(
        started_at=view.started_at,
        target_seconds=view.target_seconds,
        state="paused",
        paused_at=sh(2026, 9, 29, 10, 0),
    )
    resumed = resume(paused, sh(2026, 10, 8, 10, 0), calendar=calendar)
    assert resumed.paused_seconds == 15 * HOUR
    # Counted before the pause: Mon 28 (7.5 h) + Tue 29 09:00-10:00 (1 h) = 8.5 h; 14 h left
    # from Thu 8 Oct 10:00: Thu 6.5 h + Fri 9 Oct 7.5 h → Fri 9 Oct 18:00.
    assert due_at(resumed, calendar=calendar) == sh(2026, 10, 9, 18, 0)
    assert due_at(resumed, calendar=calendar) == calendar.add(view.started_at, 135_000)
    assert elapsed_seconds(resumed, sh(2026, 10, 8, 12, 0), calendar=calendar) == int(10.5 * HOUR)


# -- DST ------------------------------------------------------------------------------------


def test_an_interval_across_the_skipped_hour_is_two_real_hours() -> None:
    night = WorkingCalendar.create("night", time_zone="Europe/Berlin", weekly={6: ["01:00-04:00"]})
    # 2026-03-29: 02:00-03:00 does not exist: 01:00-02:00 CET + 03:00-04:00 CEST.
    assert night.elapsed(berlin(2026, 3, 29), berlin(2026, 3, 30)) == 2 * HOUR
    assert night.add(berlin(2026, 3, 29), HOUR) == utc(2026, 3, 29, 1, 0)  # 03:00 CEST
    assert night.add(berlin(2026, 3, 29), HOUR + 1) == utc(2026, 3, 29, 1, 0, 1)
    # 2026-10-25: 02:00-03:00 happens twice: 4 real hours.
    assert night.elapsed(berlin(2026, 10, 25), berlin(2026, 10, 26)) == 4 * HOUR
    assert night.add(berlin(2026, 10, 25), 3 * HOUR) == berlin(2026, 10, 25, 3, 0)
    assert berlin(2026, 10, 25, 3, 0) == utc(2026, 10, 25, 2, 0)
    # An ordinary Sunday: 3 h.
    assert night.elapsed(berlin(2026, 11, 1), berlin(2026, 11, 2)) == 3 * HOUR


def test_an_interval_starting_inside_the_skipped_or_repeated_hour() -> None:
    cal = WorkingCalendar.create("late", time_zone="Europe/Berlin", weekly={6: ["02:30-05:00"]})
    # Spring: wall 02:30 does not exist; work runs 03:00-05:00 CEST.
    assert cal.elapsed(berlin(2026, 3, 29), berlin(2026, 3, 30)) == 2 * HOUR
    assert cal.add(berlin(2026, 3, 29), 1) == utc(2026, 3, 29, 1, 0, 1)
    # Autumn: 02:30-03:00 CEST, then the clock goes back to 02:00 CET (not in 02:30-05:00)
    # and 02:30-05:00 CET: 0.5 + 2.5 = 3 h, in two pieces.
    assert cal.elapsed(berlin(2026, 10, 25), berlin(2026, 10, 26)) == 3 * HOUR
    assert cal.add(berlin(2026, 10, 25), 1800) == utc(2026, 10, 25, 1, 0)  # 03:00 CEST
    assert cal.add(berlin(2026, 10, 25), 1801) == utc(2026, 10, 25, 1, 30, 1)  # 02:30:01 CET
    assert not cal.is_working(berlin(2026, 10, 25, 2, 15, fold=1))
    assert cal.is_working(berlin(2026, 10, 25, 2, 45, fold=0))
    assert cal.is_working(berlin(2026, 10, 25, 2, 45, fold=1))


def test_new_york_office_hours_ignore_the_night_transitions() -> None:
    office = WorkingCalendar.create("ny", time_zone="America/New_York", hours=["09:00-17:00"])
    fri = datetime(2026, 3, 6, 17, 0, tzinfo=NEW_YORK)  # EST; Mon 9 Mar is EDT
    assert office.add(fri, 1) == datetime(2026, 3, 9, 9, 0, 1, tzinfo=NEW_YORK)
    assert office.add(fri, 1) == utc(2026, 3, 9, 13, 0, 1)
    year = office.elapsed(
        datetime(2026, 1, 1, tzinfo=NEW_YORK), datetime(2027, 1, 1, tzinfo=NEW_YORK)
    )
    weekdays = sum(1 for n in range(365) if (date(2026, 1, 1) + timedelta(n)).weekday() < 5)
    assert year == weekdays * 8 * HOUR


def test_a_day_that_does_not_exist_has_no_working_time() -> None:
    # Samoa skipped Friday 30 Dec 2011 (UTC-10 → UTC+14).
    apia = ZoneInfo("Pacific/Apia")
    daily = WorkingCalendar.create(
        "apia", time_zone="Pacific/Apia", hours=["09:00-17:00"], workdays=range(7)
    )
    start, end = datetime(2011, 12, 29, tzinfo=apia), datetime(2012, 1, 1, tzinfo=apia)
    assert end - start == timedelta(days=3)  # wall difference (same tzinfo)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(days=2)
    assert daily.elapsed(start, end) == 2 * 8 * HOUR


@pytest.mark.parametrize(
    "zone", ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Shanghai"]
)
def test_twenty_four_seven_across_a_whole_year_is_real_time(zone: str) -> None:
    cal = WorkingCalendar.twenty_four_seven(time_zone=zone)
    tz = ZoneInfo(zone)
    start, end = datetime(2026, 1, 1, tzinfo=tz), datetime(2027, 1, 1, tzinfo=tz)
    real = (end.astimezone(UTC) - start.astimezone(UTC)) // timedelta(seconds=1)
    assert cal.elapsed(start, end) == real
    assert cal.add(start, real) == end


# -- validation and guards ------------------------------------------------------------------


def test_intervals_parse_validate_and_print() -> None:
    assert str(WorkingInterval.parse("09:00–12:00")) == "09:00-12:00"
    assert WorkingInterval.parse("00:00-24:00").seconds == 86_400
    assert str(WorkingInterval.parse("13:30:15-18:00")) == "13:30:15-18:00"
    for bad in ["12:00-09:00", "09:00", "25:00-26:00", "09:60-10:00", "24:30-24:40"]:
        with pytest.raises(ValueError, match=r"start < end|look like|not a time of day"):
            WorkingInterval.parse(bad)
    with pytest.raises(ValueError, match="overlap"):
        intervals("09:00-12:00", "11:00-13:00")
    assert intervals("13:00-14:00", "09:00-13:00")[0] == WorkingInterval.parse("09:00-13:00")


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CN.add(datetime(2026, 1, 5, 9), 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        CN.elapsed(sh(2026, 1, 5), datetime(2026, 1, 6))
    with pytest.raises(ValueError, match="seconds must be >= 0"):
        CN.add(sh(2026, 1, 5), -1)
    with pytest.raises(ValueError, match="both holiday and make-up working day"):
        WorkingCalendar.create("x", holidays=[date(2026, 1, 3)], makeup_workdays=[date(2026, 1, 3)])
    with pytest.raises(ValueError, match="workdays are 0"):
        WorkingCalendar.create("x", workdays=[7])


def test_a_calendar_without_working_time_is_refused() -> None:
    with pytest.raises(NoWorkingTimeError):
        WorkingCalendar.create("never", workdays=[])
    with pytest.raises(NoWorkingTimeError):
        WorkingCalendar.create("never", overrides={date(2026, 1, 1): []}, workdays=[])


def test_the_search_stops_at_the_horizon_quickly() -> None:
    once = WorkingCalendar.create(
        "once", workdays=[], overrides={date(2026, 5, 9): ["09:00-10:00"]}
    )
    assert once.add(sh(2026, 1, 1), 3600) == sh(2026, 5, 9, 10, 0)
    started = timer.perf_counter()
    with pytest.raises(NoWorkingTimeError):
        once.add(sh(2026, 1, 1), 3601)
    assert timer.perf_counter() - started < 2.0
    holidays_forever = WorkingCalendar.create(
        "closed",
        horizon_days=400,
        holidays=[date(2026, 1, 1) + timedelta(n) for n in range(800)],
    )
    with pytest.raises(NoWorkingTimeError):
        holidays_forever.add(sh(2026, 1, 1), 1)
    assert holidays_forever.elapsed(sh(2026, 1, 1), sh(2028, 1, 1)) == 0


def test_precedence_override_holiday_make_up_weekday() -> None:
    cal = WorkingCalendar.create(
        "p",
        hours=["09:00-17:00"],
        holidays=[date(2026, 6, 1)],
        makeup_workdays=[date(2026, 6, 6)],
        makeup_hours=["10:00-12:00"],
        overrides={date(2026, 6, 1): ["09:00-10:00"], date(2026, 6, 2): []},
    )
    assert cal.intervals_on(date(2026, 6, 1)) == intervals("09:00-10:00")  # override > holiday
    assert cal.intervals_on(date(2026, 6, 2)) == ()  # closed by override
    assert cal.intervals_on(date(2026, 6, 3)) == intervals("09:00-17:00")
    assert cal.intervals_on(date(2026, 6, 6)) == intervals("10:00-12:00")  # make-up Saturday
    assert cal.intervals_on(date(2026, 6, 7)) == ()
    assert cal.elapsed(sh(2026, 6, 1), sh(2026, 6, 8)) == (1 + 8 * 3 + 2) * HOUR


def test_long_spans_are_fast() -> None:
    started = timer.perf_counter()
    for n in range(2000):
        start = sh(2026, 1, 1) + timedelta(minutes=37 * n)
        deadline = CN.add(start, 5 * WORKING_DAY)
        assert CN.elapsed(start, deadline) == 5 * WORKING_DAY
    assert CN.elapsed(sh(2004, 1, 1), sh(2027, 1, 1)) == (
        len(chinese_calendar.get_workdays(date(2004, 1, 1), date(2026, 12, 31))) * WORKING_DAY
    )
    assert timer.perf_counter() - started < 5.0


# -- iCalendar import -----------------------------------------------------------------------

ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//holidays//CN
BEGIN:VEVENT
UID:nd-2027
DTSTART;VALUE=DATE:20271001
DTEND;VALUE=DATE:20271008
SUMMARY:国庆节 休
END:VEVENT
BEGIN:VEVENT
UID:nd-2027-work
DTSTART;VALUE=DATE:20270926
SUMMARY:国庆节 补班
END:VEVENT
BEGIN:VEVENT
UID:timed
DTSTART:20270101T000000
DURATION:P2D
SUMMARY:元旦
END:VEVENT
BEGIN:VEVENT
UID:cancelled
DTSTART;VALUE=DATE:20270501
STATUS:CANCELLED
SUMMARY:劳动节
END:VEVENT
BEGIN:VEVENT
UID:yearly
DTSTART;VALUE=DATE:20271225
RRULE:FREQ=YEARLY
SUMMARY:Christmas
END:VEVENT
END:VCALENDAR
"""


def test_ics_import_gives_holidays_and_make_up_days() -> None:
    found = holidays_from_ics(ICS)
    assert sorted(found.holidays) == [
        date(2027, 1, 1),
        date(2027, 1, 2),
        *[date(2027, 10, d) for d in range(1, 8)],
    ]
    assert found.makeup_workdays == {date(2027, 9, 26): "国庆节 补班"}
    assert found.skipped == ["recurring event not expanded: Christmas"]
    next_year = china_calendar(
        extra_holidays=found.holidays, extra_makeup_workdays=found.makeup_workdays
    )
    assert next_year.intervals_on(date(2027, 9, 26)) == intervals(*CN_DEFAULT_HOURS)
    assert next_year.intervals_on(date(2027, 10, 4)) == ()
    assert holidays_from_ics(ICS, years=range(2028, 2029)).holidays == {}


# -- properties -----------------------------------------------------------------------------

ZONES = ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC"]


@st.composite
def day_hours(draw: st.DrawFn) -> list[WorkingInterval]:
    count = draw(st.integers(min_value=0, max_value=3))
    cuts = draw(
        st.lists(
            st.integers(min_value=0, max_value=86_400),
            min_size=2 * count,
            max_size=2 * count,
            unique=True,
        )
    )
    cuts.sort()
    return [WorkingInterval(cuts[i], cuts[i + 1]) for i in range(0, len(cuts), 2)]


window_days = st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31))


@st.composite
def calendars(draw: st.DrawFn) -> WorkingCalendar:
    # Monday always has an 8-hour block, so every duration drawn below (<= 14 days of
    # business time) is reached well inside the 10-year search horizon.
    opening = draw(st.integers(min_value=0, max_value=16 * 3600))
    weekly = {0: [WorkingInterval(opening, opening + 8 * 3600)]}
    for weekday in range(1, 7):
        weekly[weekday] = draw(day_hours())
    holidays = draw(st.sets(window_days, max_size=20))
    makeups = draw(st.sets(window_days, max_size=6)) - holidays
    overrides = draw(st.dictionaries(window_days, day_hours(), max_size=6))
    return WorkingCalendar.create(
        "random",
        time_zone=draw(st.sampled_from(ZONES)),
        weekly=weekly,
        holidays=holidays,
        makeup_workdays=makeups,
        overrides=overrides,
    )


moments = st.datetimes(
    min_value=datetime(2025, 12, 1), max_value=datetime(2027, 1, 31), timezones=st.just(UTC)
)
whole_second_moments = moments.map(lambda m: m.replace(microsecond=0))
durations = st.integers(min_value=0, max_value=14 * 86_400)
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(cal=calendars(), start=moments, a=durations, b=durations)
def test_add_is_monotonic(cal: WorkingCalendar, start: datetime, a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert start <= cal.add(start, low) <= cal.add(start, high)
    if low < high:
        assert cal.add(start, low) < cal.add(start, high)


@PROPERTY_SETTINGS
@given(cal=calendars(), start=moments, seconds=durations)
def test_elapsed_undoes_add_and_add_is_the_earliest_instant(
    cal: WorkingCalendar, start: datetime, seconds: int
) -> None:
    deadline = cal.add(start, seconds)
    assert cal.elapsed(start, deadline) == seconds
    assert cal.elapsed_us(start, deadline) == seconds * 1_000_000
    if seconds:
        # one microsecond earlier is not enough: the last microsecond before it was worked
        assert cal.elapsed_us(start, deadline - timedelta(microseconds=1)) == (
            seconds * 1_000_000 - 1
        )
        assert cal.is_working(deadline - timedelta(microseconds=1))
    else:
        assert deadline == start


@PROPERTY_SETTINGS
@given(cal=calendars(), start=moments, a=durations, b=durations)
def test_add_is_additive(cal: WorkingCalendar, start: datetime, a: int, b: int) -> None:
    assert cal.add(cal.add(start, a), b) == cal.add(start, a + b)


@PROPERTY_SETTINGS
@given(cal=calendars(), points=st.lists(moments, min_size=3, max_size=3))
def test_elapsed_is_additive_across_a_split(cal: WorkingCalendar, points: list[datetime]) -> None:
    first, middle, last = sorted(points)
    assert cal.elapsed_us(first, last) == cal.elapsed_us(first, middle) + cal.elapsed_us(
        middle, last
    )
    assert cal.elapsed(last, first) == 0


@PROPERTY_SETTINGS
@given(cal=calendars(), points=st.lists(whole_second_moments, min_size=3, max_size=3))
def test_whole_seconds_are_additive_too(cal: WorkingCalendar, points: list[datetime]) -> None:
    first, middle, last = sorted(points)
    assert cal.elapsed(first, last) == cal.elapsed(first, middle) + cal.elapsed(middle, last)


@settings(max_examples=300, deadline=None)
@given(
    start=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(BERLIN)
    ),
    seconds=st.integers(min_value=0, max_value=400 * 86_400),
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]),
)
def test_twenty_four_seven_equals_wall_time_across_dst(
    start: datetime, seconds: int, zone: str
) -> None:
    cal = WorkingCalendar.twenty_four_seven(time_zone=zone)
    real_end = start.astimezone(UTC) + timedelta(seconds=seconds)  # real time, not wall time
    assert cal.add(start, seconds) == real_end
    assert cal.elapsed(start, real_end) == seconds
    assume(start.microsecond == 0)
    assert cal.elapsed(start, real_end + timedelta(microseconds=999_999)) == seconds
