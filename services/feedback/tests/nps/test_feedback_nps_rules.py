"""The NPS programme's pure rules: periods tile time in the organisation's zone, and the
sample is reproducible, about p %, one per customer per period, never an opted-out
customer (properties, hypothesis)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from feedback.nps.domain.answers import expiry, group, read_nps_form, refusal_reason
from feedback.nps.domain.periods import (
    Fixed,
    Monthly,
    Off,
    PartialPeriod,
    latest_ended,
    named_period,
    parse_schedule,
    period_containing,
    window,
)
from feedback.nps.domain.sampling import (
    Candidate,
    chosen,
    draw,
    latest_per_customer,
    request_id_for,
    sample,
)
from feedback.pages.domain.forms import FormState
from hypothesis import assume, given, settings
from hypothesis import strategies as st

SHANGHAI = ZoneInfo("Asia/Shanghai")
ZONES = st.sampled_from(
    [ZoneInfo(z) for z in ("Asia/Shanghai", "UTC", "Europe/Berlin", "America/New_York")]
)
MOMENTS = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC)
)
SCHEDULES = st.one_of(
    st.just(Monthly()), st.integers(min_value=1, max_value=40 * 86_400).map(Fixed)
)
REFS = st.text(alphabet="abcdef0123456789", min_size=4, max_size=24).map(lambda s: f"cr_{s}")
SEEDS = st.text(min_size=1, max_size=30)
PERIODS = st.sampled_from(["2026-11", "2026-12", "2027-01"])


# ---- the schedule and its periods


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("monthly", Monthly()),
        (" Monthly ", Monthly()),
        ("off", Off()),
        ("30s", Fixed(30)),
        ("15m", Fixed(900)),
        ("12h", Fixed(43_200)),
        ("7d", Fixed(604_800)),
    ],
)
def test_schedules_parse(text: str, expected: object) -> None:
    assert parse_schedule(text) == expected


@pytest.mark.parametrize("text", ["weekly", "0s", "-5s", "5", "5 days", "1.5h", "cron(0 0 1 * *)"])
def test_unknown_schedules_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="NPS_SCHEDULE"):
        parse_schedule(text)


def test_a_month_starts_at_midnight_in_the_organisations_zone() -> None:
    # 00:30 on 1 December in Shanghai is still November in UTC: it counts for December.
    moment = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)
    december = period_containing(Monthly(), moment, SHANGHAI)
    assert december.key == "2026-12"
    assert december.start == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert december.end == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    assert period_containing(Monthly(), moment, ZoneInfo("UTC")).key == "2026-11"


def test_the_latest_ended_month_and_fixed_period() -> None:
    now = datetime(2027, 1, 1, 3, 0, tzinfo=UTC)  # 11:00 on 1 January in Shanghai
    assert latest_ended(Monthly(), now, SHANGHAI).key == "2026-12"  # type: ignore[union-attr]
    thirty = latest_ended(Fixed(30), datetime(2026, 11, 23, 9, 30, 45, tzinfo=UTC), SHANGHAI)
    assert thirty is not None
    assert thirty.key == "2026-11-23T09:30:00Z/2026-11-23T09:30:30Z"
    assert latest_ended(Off(), now, SHANGHAI) is None


@settings(max_examples=300, deadline=None)
@given(schedule=SCHEDULES, moment=MOMENTS, zone=ZONES)
def test_periods_tile_time(schedule: Monthly | Fixed, moment: datetime, zone: ZoneInfo) -> None:
    """Every instant is in exactly one period; a period ends where the next one starts;
    the latest ended period is the one just before the current one."""
    current = period_containing(schedule, moment, zone)
    assert current.contains(moment)
    assert current.start < current.end
    after = period_containing(schedule, current.end, zone)
    assert after.start == current.end
    assert after.key != current.key
    before = latest_ended(schedule, moment, zone)
    assert before is not None
    assert before.end == current.start <= moment
    assert period_containing(schedule, before.start, zone) == before


@settings(max_examples=200, deadline=None)
@given(moment=MOMENTS, zone=ZONES)
def test_a_month_is_the_local_calendar_month(moment: datetime, zone: ZoneInfo) -> None:
    month = period_containing(Monthly(), moment, zone)
    local = moment.astimezone(zone)
    assert month.key == f"{local.year:04d}-{local.month:02d}"
    start = month.start.astimezone(zone)
    assert (start.day, start.hour, start.minute) == (1, 0, 0)
    assert 28 * 86_400 - 7200 <= (month.end - month.start).total_seconds() <= 31 * 86_400 + 7200


def test_an_operators_window_is_whole_seconds_and_bounded() -> None:
    start = datetime(2026, 11, 23, 9, 30, 0, 500, tzinfo=UTC)
    period = window(start, start + timedelta(seconds=20))
    assert period.key == "2026-11-23T09:30:00Z/2026-11-23T09:30:20Z"
    with pytest.raises(ValueError, match="ends after"):
        window(start, start)
    with pytest.raises(ValueError, match="a year"):
        window(start, start + timedelta(days=400))
    with pytest.raises(ValueError, match="offset"):
        window(datetime(2026, 1, 1), datetime(2026, 2, 1))


def test_a_named_window_that_is_a_scheduled_period_is_that_period() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    start = datetime(2026, 11, 1, tzinfo=shanghai)
    end = datetime(2026, 12, 1, tzinfo=shanghai)
    month = named_period(Monthly(), start, end, shanghai)
    assert month == period_containing(Monthly(), start, shanghai)
    assert month.key == "2026-11"
    # The same bounds in UTC, with a stray microsecond: still the month.
    same = named_period(
        Monthly(), start.astimezone(UTC).replace(microsecond=7), end.astimezone(UTC), shanghai
    )
    assert same.key == "2026-11"
    fixed = named_period(
        Fixed(60),
        datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
        datetime(2026, 11, 23, 9, 31, tzinfo=UTC),
        UTC,
    )
    assert fixed.key == "2026-11-23T09:30:00Z/2026-11-23T09:31:00Z"
    # Without a schedule, the window is what it is.
    assert named_period(Off(), start, end, shanghai).key == (
        "2026-10-31T16:00:00Z/2026-11-30T16:00:00Z"
    )


@pytest.mark.parametrize(
    ("start", "end", "cut"),
    [
        (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC), "2026-11"),
        (datetime(2026, 11, 3, 16, tzinfo=UTC), datetime(2026, 11, 30, 16, tzinfo=UTC), "2026-11"),
        (datetime(2026, 10, 31, 16, tzinfo=UTC), datetime(2026, 11, 5, tzinfo=UTC), "2026-11"),
        (datetime(2026, 10, 20, tzinfo=UTC), datetime(2026, 11, 30, 16, tzinfo=UTC), "2026-10"),
    ],
)
def test_a_named_window_cutting_a_scheduled_period_is_refused(
    start: datetime, end: datetime, cut: str
) -> None:
    with pytest.raises(PartialPeriod, match=f"part of the scheduled period {cut}"):
        named_period(Monthly(), start, end, ZoneInfo("Asia/Shanghai"))
    with pytest.raises(ValueError, match="ends after"):
        named_period(Monthly(), start, start, ZoneInfo("Asia/Shanghai"))


# ---- the sample


@settings(max_examples=200, deadline=None)
@given(seed=SEEDS, period=PERIODS, ref=REFS, percent=st.floats(min_value=0, max_value=100))
def test_the_same_inputs_give_the_same_choice(
    seed: str, period: str, ref: str, percent: float
) -> None:
    first = chosen(seed=seed, period=period, customer_ref=ref, percent=percent)
    assert chosen(seed=seed, period=period, customer_ref=ref, percent=percent) == first
    assert 0 <= draw(seed=seed, period=period, customer_ref=ref) < 1


@settings(max_examples=200, deadline=None)
@given(
    seed=SEEDS,
    period=PERIODS,
    ref=REFS,
    low=st.floats(min_value=0, max_value=100),
    high=st.floats(min_value=0, max_value=100),
)
def test_a_larger_share_only_adds_customers(
    seed: str, period: str, ref: str, low: float, high: float
) -> None:
    low, high = sorted((low, high))
    if chosen(seed=seed, period=period, customer_ref=ref, percent=low):
        assert chosen(seed=seed, period=period, customer_ref=ref, percent=high)


@settings(max_examples=100, deadline=None)
@given(seed=SEEDS, period=PERIODS, ref=REFS, percent=st.floats(min_value=0, max_value=100))
def test_an_opted_out_customer_is_never_chosen(
    seed: str, period: str, ref: str, percent: float
) -> None:
    assert not chosen(seed=seed, period=period, customer_ref=ref, percent=percent, opted_out=True)
    assert chosen(seed=seed, period=period, customer_ref=ref, percent=100)
    assert not chosen(seed=seed, period=period, customer_ref=ref, percent=0)


@settings(max_examples=25, deadline=None)
@given(seed=SEEDS, period=PERIODS, percent=st.sampled_from([5.0, 30.0, 50.0, 90.0]))
def test_about_p_percent_are_chosen(seed: str, period: str, percent: float) -> None:
    """Binomial: within 5 standard deviations of p % of 4000 customers."""
    n = 4000
    count = sum(
        chosen(seed=seed, period=period, customer_ref=f"cr_{i:06d}", percent=percent)
        for i in range(n)
    )
    p = percent / 100
    assert abs(count - n * p) <= 5 * math.sqrt(n * p * (1 - p))


def test_another_period_draws_everybody_afresh() -> None:
    refs = [f"cr_{i:05d}" for i in range(2000)]
    november = {r for r in refs if chosen(seed="s", period="2026-11", customer_ref=r, percent=30)}
    december = {r for r in refs if chosen(seed="s", period="2026-12", customer_ref=r, percent=30)}
    assert november != december
    assert 0.05 < len(november & december) / len(refs) < 0.15  # about 30 % of 30 %


def _candidate(ref: str, n: int, day: int) -> Candidate:
    return Candidate(
        customer_ref=ref,
        complaint_id=f"00000000-0000-7000-8000-{n:012d}",
        closed_at=datetime(2026, 11, day, tzinfo=UTC),
        language="en",
        channel="email",
    )


CANDIDATES = st.lists(
    st.builds(
        _candidate,
        ref=st.sampled_from([f"cr_{i}" for i in range(12)]),
        n=st.integers(min_value=0, max_value=50),
        day=st.integers(min_value=1, max_value=30),
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(
    seed=SEEDS,
    candidates=CANDIDATES,
    percent=st.floats(min_value=0, max_value=100),
    opted=st.sets(st.sampled_from([f"cr_{i}" for i in range(12)])),
    order=st.randoms(use_true_random=False),
)
def test_the_sample_is_one_request_per_customer_whatever_the_order(
    seed: str, candidates: list[Candidate], percent: float, opted: set[str], order: object
) -> None:
    picks = sample(
        seed=seed, period="2026-11", candidates=candidates, percent=percent, opted_out=opted
    )
    refs = [p.customer_ref for p in picks]
    assert len(refs) == len(set(refs))
    assert not set(refs) & opted
    for pick in picks:  # the customer's latest closure of the period
        theirs = [c for c in candidates if c.customer_ref == pick.customer_ref]
        assert pick.closed_at == max(c.closed_at for c in theirs)
    shuffled = list(candidates)
    order.shuffle(shuffled)  # type: ignore[attr-defined]
    again = sample(
        seed=seed, period="2026-11", candidates=shuffled, percent=percent, opted_out=opted
    )
    assert again == picks


def test_latest_per_customer_breaks_ties_by_complaint_id() -> None:
    a, b = _candidate("cr_1", 1, 5), _candidate("cr_1", 2, 5)
    assert latest_per_customer([b, a])["cr_1"] == b
    assert latest_per_customer([a, b])["cr_1"] == b


@given(period=PERIODS, ref=REFS)
def test_request_ids_are_stable_per_customer_and_period(period: str, ref: str) -> None:
    assert request_id_for(period=period, customer_ref=ref) == request_id_for(
        period=period, customer_ref=ref
    )
    assume(period != "2027-01")
    assert request_id_for(period=period, customer_ref=ref) != request_id_for(
        period="2027-01", customer_ref=ref
    )


# ---- the answer


@pytest.mark.parametrize("score", range(11))
def test_every_score_of_the_scale_is_taken(score: int) -> None:
    answer = read_nps_form({"score": str(score), "comment": "  ok  "})
    assert not isinstance(answer, FormState)
    assert (answer.score, answer.comment) == (score, "ok")


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (None, "form.score.missing"),
        ("", "form.score.missing"),
        ("11", "form.score.invalid"),
        ("-1", "form.score.invalid"),
        ("1e1", "form.score.invalid"),
        (" 5", "form.score.invalid"),
        ("５", "form.score.invalid"),
    ],
)
def test_a_score_off_the_scale_is_refused(raw: str | None, error: str) -> None:
    fields = {"comment": "why not"} | ({} if raw is None else {"score": raw})
    refused = read_nps_form(fields)
    assert isinstance(refused, FormState)
    assert refused.errors == {"score": error}
    assert refused.values["comment"] == "why not"


def test_groups_and_expiry() -> None:
    assert [group(s) for s in (0, 6, 7, 8, 9, 10)] == [
        "detractor",
        "detractor",
        "passive",
        "passive",
        "promoter",
        "promoter",
    ]
    with pytest.raises(ValueError, match=r"0\.\.10"):
        group(11)
    sent = datetime(2026, 12, 1, 1, 0, 0, 123, tzinfo=UTC)
    assert expiry(requested_at=sent, answer_s=14 * 86_400) == datetime(
        2026, 12, 15, 1, 0, tzinfo=UTC
    )


def test_why_a_link_cannot_take_an_answer() -> None:
    now = datetime(2026, 12, 2, tzinfo=UTC)
    later, earlier = now + timedelta(days=1), now - timedelta(days=1)
    kw = {"found": True, "complaint_matches": True, "now": now}
    assert refusal_reason(answered_at=None, expires_at=later, **kw) is None  # type: ignore[arg-type]
    assert refusal_reason(answered_at=earlier, expires_at=later, **kw) == "answered"  # type: ignore[arg-type]
    assert refusal_reason(answered_at=None, expires_at=now, **kw) == "expired"  # type: ignore[arg-type]
    assert (
        refusal_reason(
            found=True, complaint_matches=False, answered_at=None, expires_at=later, now=now
        )
        == "not_found"
    )
