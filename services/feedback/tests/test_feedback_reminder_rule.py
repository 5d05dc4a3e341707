"""The reminder rule (``feedback.domain.reminders``): examples, and properties over random
histories of a request: reminded at most once, never after an answer, an expiry, a
supersession or a report that no channel reaches the customer, never before the delay."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from complaint_contracts.events import (
    ComplaintConfirmationRequested,
    ComplaintResolved,
    NotificationFailed,
)
from complaint_contracts.examples import example_for
from feedback.domain.reminders import (
    ReminderFacts,
    reminder_due,
    reminder_due_at,
    reports_unreachable_customer,
)
from hypothesis import given, settings
from hypothesis import strategies as st

T0 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
DAY = 86_400.0
AFTER_S = DAY
SENT = ReminderFacts(status="pending", requested_at=T0, expires_at=T0 + timedelta(days=7))


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_due_from_the_delay_until_the_deadline() -> None:
    assert reminder_due_at(requested_at=T0, reminder_after_s=AFTER_S) == at(24)
    assert not reminder_due(SENT, now=at(23.99), reminder_after_s=AFTER_S)
    assert reminder_due(SENT, now=at(24), reminder_after_s=AFTER_S)
    assert reminder_due(SENT, now=at(7 * 24 - 0.01), reminder_after_s=AFTER_S)
    assert not reminder_due(SENT, now=at(7 * 24), reminder_after_s=AFTER_S)  # expired


def test_never_twice_nor_after_an_end() -> None:
    now = at(30)
    assert not reminder_due(replace(SENT, reminded_at=at(25)), now=now, reminder_after_s=AFTER_S)
    assert not reminder_due(replace(SENT, answered_at=at(2)), now=now, reminder_after_s=AFTER_S)
    assert not reminder_due(replace(SENT, unreached_at=at(0)), now=now, reminder_after_s=AFTER_S)
    for status in ("waiting", "answered", "expired", "superseded", "cancelled"):
        ended = replace(SENT, status=status)
        assert not reminder_due(ended, now=now, reminder_after_s=AFTER_S), status
    never_sent = ReminderFacts(status="waiting", requested_at=None, expires_at=None)
    assert not reminder_due(never_sent, now=now, reminder_after_s=AFTER_S)


def test_a_delay_past_the_deadline_reminds_nobody() -> None:
    assert not reminder_due(SENT, now=at(8 * 24), reminder_after_s=8 * DAY)


def _failed(**changes: object) -> NotificationFailed:
    base = example_for(NotificationFailed)
    assert isinstance(base, NotificationFailed)
    request_type = ComplaintConfirmationRequested.ce_type()
    values = {"reason": "no_channel", "final": True, "cause_event_type": request_type}
    return base.model_copy(update=values | changes)


def test_only_notify_s_no_channel_for_the_customer_s_request_is_unreachable() -> None:
    assert reports_unreachable_customer(_failed())
    assert not reports_unreachable_customer(_failed(reason=None))  # e.g. an SMTP failure
    assert not reports_unreachable_customer(_failed(recipient_role="team_lead"))
    other = ComplaintResolved.ce_type()
    assert not reports_unreachable_customer(_failed(cause_event_type=other))


# -- properties: a request's life as a random sequence of steps, the loop asking each time

Step = tuple[str, float]  # (what happens, hours since the previous step)
STEPS = st.lists(
    st.tuples(
        st.sampled_from(["tick", "tick", "tick", "answer", "supersede", "cancel", "unreached"]),
        st.floats(min_value=0, max_value=72, allow_nan=False),
    ),
    max_size=30,
)


def _run(steps: list[Step], *, after_h: float, expiry_h: float) -> list[tuple[int, datetime, str]]:
    """Apply ``steps`` to a request sent at T0; the loop runs after every step. Returns the
    reminders sent: the step, the time and the state the request had when it was decided."""
    facts = ReminderFacts(status="pending", requested_at=T0, expires_at=at(expiry_h))
    now, sent = T0, []
    for index, (what, hours) in enumerate(steps):
        now += timedelta(hours=hours)
        live = facts.status == "pending"
        if live and facts.expires_at is not None and now >= facts.expires_at:
            facts = replace(facts, status="expired")  # the auto-close's step
        if what == "answer" and facts.status == "pending":
            facts = replace(facts, status="answered", answered_at=now)
        elif what in ("supersede", "cancel") and facts.status == "pending":
            facts = replace(facts, status=f"{what}{'d' if what == 'supersede' else 'led'}")
        elif what == "unreached" and facts.status == "pending":
            facts = replace(facts, unreached_at=now)
        if reminder_due(facts, now=now, reminder_after_s=after_h * 3600):
            sent.append((index, now, facts.status))
            facts = replace(facts, reminded_at=now)
    return sent


@settings(max_examples=300, deadline=None)
@given(
    steps=STEPS,
    after_h=st.floats(min_value=0.01, max_value=200, allow_nan=False),
    expiry_h=st.floats(min_value=1, max_value=240, allow_nan=False),
)
def test_a_request_is_reminded_at_most_once_and_only_while_live(
    steps: list[Step], after_h: float, expiry_h: float
) -> None:
    sent = _run(steps, after_h=after_h, expiry_h=expiry_h)
    assert len(sent) <= 1
    for _, when, status in sent:
        assert status == "pending"
        assert when >= at(after_h)  # never before the delay
        assert when < at(expiry_h)  # never at or after the deadline


@settings(max_examples=200, deadline=None)
@given(steps=STEPS, after_h=st.floats(min_value=0.01, max_value=48, allow_nan=False))
def test_nothing_is_reminded_after_an_answer_supersession_or_no_channel(
    steps: list[Step], after_h: float
) -> None:
    ends = ("answer", "supersede", "cancel", "unreached")
    first_end = next((i for i, (what, _) in enumerate(steps) if what in ends), len(steps))
    sent = _run(steps, after_h=after_h, expiry_h=24 * 7)
    assert all(step < first_end for step, _, _ in sent)


@settings(max_examples=100, deadline=None)
@given(after_h=st.floats(min_value=0.01, max_value=100, allow_nan=False))
def test_a_quiet_request_is_reminded_exactly_once_when_the_loop_runs_in_time(
    after_h: float,
) -> None:
    ticks: list[Step] = [("tick", 1.0)] * 200
    sent = _run(ticks, after_h=after_h, expiry_h=after_h + 24)
    assert len(sent) == 1
    assert at(after_h) <= sent[0][1] < at(after_h + 1)
