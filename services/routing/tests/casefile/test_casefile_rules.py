"""The case file's pure rules: the list cursor (round trip, refusals), the filters'
digest, who sees a case, and the SLA clocks projected from each sla event."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from complaint_contracts.events import (
    SlaBreached,
    SlaClockPaused,
    SlaClockRescheduled,
    SlaClockResumed,
    SlaClockStarted,
    SlaClockStopped,
    SlaWarning,
)
from complaint_runtime.errors import InvalidInput
from hypothesis import given
from hypothesis import strategies as st
from routing.casefile.domain.listing import (
    CaseFilters,
    ListPosition,
    decode_cursor,
    encode_cursor,
)
from routing.casefile.domain.sla import ClockProjection, SlaSummary, project
from routing.casefile.domain.visibility import visibility_of

CID = "0195f3c2-7a10-7c4e-9b2d-3f6a8e1d2c40"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DIGEST = CaseFilters().digest()

# -- the cursor

INSTANTS = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=8))]),
)
POSITIONS = st.builds(
    ListPosition,
    due_at=st.none() | INSTANTS,
    received_at=INSTANTS,
    complaint_id=st.uuids().map(str) | st.text(min_size=1, max_size=36),
)


@given(position=POSITIONS, filters=st.text(max_size=30))
def test_a_cursor_gives_back_its_position(position: ListPosition, filters: str) -> None:
    digest = CaseFilters(query=filters).digest()
    cursor = encode_cursor(position, filters_digest=digest)
    assert decode_cursor(cursor, filters_digest=digest) == position
    assert cursor.isascii()
    assert "=" not in cursor
    assert "/" not in cursor
    assert "+" not in cursor


def _forged(document: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not a cursor",
        "%%%",
        "x" * 401,
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        _forged([1, 2]),
        _forged({"v": 2, "f": DIGEST, "d": None, "r": T0.isoformat(), "i": CID}),
        _forged({"v": 1, "f": DIGEST, "d": None, "r": "yesterday", "i": CID}),
        _forged({"v": 1, "f": DIGEST, "d": None, "r": "2026-12-01T09:00:00", "i": CID}),
        _forged({"v": 1, "f": DIGEST, "d": 5, "r": T0.isoformat(), "i": CID}),
        _forged({"v": 1, "f": DIGEST, "d": None, "r": T0.isoformat(), "i": "x" * 37}),
        _forged({"v": 1, "f": DIGEST, "d": None, "r": T0.isoformat()}),
    ],
)
def test_anything_else_is_an_invalid_cursor(cursor: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        decode_cursor(cursor, filters_digest=DIGEST)
    assert refused.value.kind == "invalid-cursor"
    assert refused.value.errors is not None
    assert refused.value.errors[0]["field"] == "cursor"


def test_a_cursor_of_other_filters_is_refused() -> None:
    cursor = encode_cursor(ListPosition(None, T0, CID), filters_digest=DIGEST)
    other = CaseFilters(statuses=("assigned",)).digest()
    with pytest.raises(InvalidInput, match="other filters"):
        decode_cursor(cursor, filters_digest=other)


def test_the_filters_digest_ignores_order_and_repetition() -> None:
    one = CaseFilters(statuses=("assigned", "in_progress"), teams=("billing",))
    same = CaseFilters(statuses=("in_progress", "assigned", "assigned"), teams=("billing",))
    assert one.digest() == same.digest() != CaseFilters(statuses=("assigned",)).digest()


# -- who sees a case


@pytest.mark.parametrize(
    ("roles", "team", "case_team", "case_assignee", "sees"),
    [
        ({"agent"}, "billing", "billing", "agent-wang", True),  # own team
        ({"agent"}, "billing", "quality", "me", True),  # own case in another team
        ({"agent"}, "billing", "quality", "agent-wang", False),
        ({"agent"}, None, "billing", "agent-wang", False),  # no team claim: own cases only
        ({"agent"}, None, "billing", "me", True),
        ({"lead"}, "billing", "billing", None, True),
        ({"lead"}, "billing", "quality", "me", False),  # a lead's own assignment: not as lead
        ({"lead"}, None, "billing", None, False),  # a lead without team sees nothing
        ({"manager"}, None, "quality", "agent-wang", True),
        ({"admin"}, None, None, None, True),
        ({"service"}, None, None, None, True),
        (set(), "billing", "billing", "me", False),
    ],
)
def test_who_sees_a_case(
    roles: set[str], team: str | None, case_team: str | None, case_assignee: str | None, sees: bool
) -> None:
    visibility = visibility_of(roles=roles, subject="me", team=team)
    assert visibility.admits(case_team=case_team, case_assignee=case_assignee) is sees


# -- SLA clocks


def started(clock_id: str = "c1", *, due: timedelta = timedelta(hours=4)) -> SlaClockStarted:
    return SlaClockStarted(
        complaint_id=CID,
        clock_id=clock_id,
        metric="resolution",
        target_seconds=14_400,
        started_at=T0,
        due_at=T0 + due,
        calendar_id="24x7",
        policy_id="default-P3",
        priority="P3",
    )


def warning(percent: int, clock_id: str = "c1") -> SlaWarning:
    return SlaWarning(
        complaint_id=CID,
        clock_id=clock_id,
        metric="resolution",
        percent=percent,
        reached_at=T0 + timedelta(hours=2),
        due_at=T0 + timedelta(hours=4),
        priority="P3",
    )


def breached(clock_id: str = "c1") -> SlaBreached:
    return SlaBreached(
        complaint_id=CID,
        clock_id=clock_id,
        metric="resolution",
        due_at=T0 + timedelta(hours=4),
        priority="P3",
        breach_count=1,
    )


PAUSED = SlaClockPaused(
    complaint_id=CID, clock_id="c1", metric="resolution", paused_at=T0, elapsed_seconds=60
)
RESUMED = SlaClockResumed(
    complaint_id=CID,
    clock_id="c1",
    metric="resolution",
    resumed_at=T0,
    elapsed_seconds=60,
    due_at=T0 + timedelta(hours=6),
)
RESCHEDULED = SlaClockRescheduled(
    complaint_id=CID,
    clock_id="c1",
    metric="resolution",
    reason="priority_changed",
    target_seconds=7_200,
    previous_due_at=T0 + timedelta(hours=4),
    due_at=T0 + timedelta(hours=2),
    calendar_id="24x7",
    policy_id="default-P2",
)
STOPPED = SlaClockStopped(
    complaint_id=CID,
    clock_id="c1",
    metric="resolution",
    stopped_at=T0 + timedelta(hours=1),
    elapsed_seconds=3_600,
    outcome="met",
)


def run(*events: object) -> ClockProjection:
    clock = None
    for event in events:
        clock = project(clock, event)  # type: ignore[arg-type]
    assert clock is not None
    return clock


def test_each_event_moves_the_clock() -> None:
    clock = run(started())
    assert (clock.state, clock.due_at, clock.target_seconds) == (
        "running",
        T0 + timedelta(hours=4),
        14_400,
    )
    assert run(started(), PAUSED).state == "paused"
    assert run(started(), PAUSED, RESUMED).due_at == T0 + timedelta(hours=6)
    assert run(started(), RESCHEDULED).due_at == T0 + timedelta(hours=2)
    assert run(started(), RESCHEDULED).target_seconds == 7_200
    assert run(started(), warning(50), warning(75)).warned_percent == 75
    stopped = run(started(), STOPPED)
    assert (stopped.state, stopped.outcome, stopped.breached) == ("stopped", "met", False)
    late = run(started(), STOPPED.model_copy(update={"outcome": "breached"}))
    assert late.breached is True


def test_stopped_is_final_and_warnings_only_accumulate() -> None:
    clock = run(started(), STOPPED, RESUMED, PAUSED, RESCHEDULED)
    assert (clock.state, clock.due_at) == ("stopped", T0 + timedelta(hours=4))
    assert run(started(), warning(90), warning(50)).warned_percent == 90
    assert run(started(), breached(), warning(75)).breached is True


def test_a_clock_first_seen_late_is_created_and_a_late_start_only_fills_in() -> None:
    clock = run(warning(75))
    assert (clock.state, clock.due_at, clock.target_seconds) == (
        "running",
        T0 + timedelta(hours=4),
        None,
    )
    clock = run(PAUSED, started(due=timedelta(hours=9)))
    assert (clock.state, clock.due_at, clock.target_seconds) == (
        "paused",
        T0 + timedelta(hours=9),
        14_400,
    )
    clock = run(RESCHEDULED, started(due=timedelta(hours=9)))
    assert clock.due_at == T0 + timedelta(hours=2)  # the later event stands


def test_the_summary_a_list_sorts_and_filters_on() -> None:
    near = run(started("a", due=timedelta(hours=1)), warning(75, "a"))
    far = run(started("b", due=timedelta(hours=8)))
    paused_c = PAUSED.model_copy(update={"clock_id": "c"})
    paused = run(started("c", due=timedelta(minutes=5)), paused_c)
    summary = SlaSummary.of([far, near, paused])
    assert (summary.due_at, summary.at_risk, summary.breached, summary.state) == (
        T0 + timedelta(hours=1),
        True,
        False,
        "at_risk",
    )
    assert SlaSummary.of([]).state is None
    assert SlaSummary.of([paused]).state == "paused"
    assert SlaSummary.of([paused]).due_at is None
    assert SlaSummary.of([run(started(), breached()), far]).state == "breached"
    assert SlaSummary.of([run(started(), STOPPED)]).state == "stopped"
    assert SlaSummary.of([far]).state == "on_track"


def test_time_left_only_for_a_running_clock() -> None:
    clock = run(started())
    assert clock.seconds_left(T0) == 14_400
    assert clock.seconds_left(T0 + timedelta(hours=5)) == -3_600
    assert run(started(), PAUSED).seconds_left(T0) is None
    assert run(started(), STOPPED).seconds_left(T0) is None
