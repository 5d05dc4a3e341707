"""The tracking page's pure rules: the promised times folded from the SLA clocks' events,
the customer's status words and next step, the timeline, the forms' checks, the rate
limits' keys, and the link's form and its redaction in logs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from complaint_contracts.events import (
    ComplaintAgentReplied,
    ComplaintAwaitingCustomer,
    ComplaintClosed,
    ComplaintFirstResponseSent,
    ComplaintReceived,
    ComplaintWithdrawn,
    CustomerMessageReceived,
    SlaBreached,
    SlaClockPaused,
    SlaClockRescheduled,
    SlaClockResumed,
    SlaClockStarted,
    SlaClockStopped,
)
from complaint_customer_web.catalog import Catalog
from intake.complaints.domain.tracking import redact_link_paths, tracking_url
from intake.pages.domain.forms import MAX_MESSAGE, check_message, check_reason, is_submission_key
from intake.pages.domain.status import (
    customer_status,
    next_step,
    promise_rows,
    settle_first_response,
)
from intake.pages.domain.throttling import (
    DEFAULT_LIMITS,
    limits_with,
    link_of_token,
    rate_keys,
)
from intake.pages.domain.timeline import (
    Step,
    event_name,
    latest_from_us,
    open_question,
    timeline,
)
from intake.pages.domain.words import WORDS
from intake.projection.domain.promises import ClockStep, Promise, is_late, promises_of

T0 = datetime(2026, 12, 14, 1, 0, tzinfo=UTC)
WINDOW = timedelta(days=30)


def _clock(model: Any, **data: Any) -> ClockStep:
    def plain(value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime) else value

    return ClockStep(model.ce_type(), {k: plain(v) for k, v in data.items()})


def _started(clock_id: str, metric: str, due: datetime) -> ClockStep:
    return _clock(SlaClockStarted, clock_id=clock_id, metric=metric, due_at=due)


def test_each_metric_promises_the_due_time_of_its_clock() -> None:
    promises = promises_of(
        [
            _started("c1", "first_response", T0 + timedelta(hours=4)),
            _started("c2", "resolution", T0 + timedelta(days=3)),
        ]
    )
    assert promises == {
        "first_response": Promise("first_response", "running", T0 + timedelta(hours=4)),
        "resolution": Promise("resolution", "running", T0 + timedelta(days=3)),
    }


def test_pauses_resumes_and_reschedules_move_the_promise() -> None:
    promises = promises_of(
        [
            _started("c2", "resolution", T0 + timedelta(days=3)),
            _clock(SlaClockPaused, clock_id="c2", metric="resolution"),
            _clock(
                SlaClockRescheduled, clock_id="c2", metric="resolution", due_at=T0 + timedelta(4)
            ),
        ]
    )
    assert promises["resolution"].state == "paused"  # a reschedule keeps the pause
    assert promises["resolution"].due_at == T0 + timedelta(days=4)
    resumed = promises_of(
        [
            _started("c2", "resolution", T0 + timedelta(days=3)),
            _clock(SlaClockPaused, clock_id="c2", metric="resolution"),
            _clock(SlaClockResumed, clock_id="c2", metric="resolution", due_at=T0 + timedelta(5)),
        ]
    )
    assert resumed["resolution"] == Promise("resolution", "running", T0 + timedelta(days=5))


def test_a_stopped_clock_keeps_when_it_stopped_and_whether_it_was_late() -> None:
    stopped_at = T0 + timedelta(hours=2)
    promises = promises_of(
        [
            _started("c1", "first_response", T0 + timedelta(hours=1)),
            _clock(SlaBreached, clock_id="c1", metric="first_response"),
            _clock(
                SlaClockStopped,
                clock_id="c1",
                metric="first_response",
                outcome="breached",
                stopped_at=stopped_at,
            ),
        ]
    )
    assert promises["first_response"] == Promise(
        "first_response", "breached", T0 + timedelta(hours=1), stopped_at, breached=True
    )


def test_the_clock_started_last_is_the_one_promised() -> None:
    """A reopen restarts the resolution clock: the new one is what counts."""
    promises = promises_of(
        [
            _started("old", "resolution", T0 + timedelta(days=1)),
            _clock(SlaClockStopped, clock_id="old", metric="resolution", outcome="met"),
            _started("new", "resolution", T0 + timedelta(days=6)),
            _clock(SlaClockPaused, clock_id="old", metric="resolution"),  # the old clock
            ClockStep(ComplaintReceived.ce_type(), {}),  # not a clock's: ignored
        ]
    )
    assert promises["resolution"] == Promise("resolution", "running", T0 + timedelta(days=6))


def test_a_running_clock_past_its_due_time_is_late() -> None:
    promise = Promise("first_response", "running", T0)
    assert is_late(promise, now=T0 + timedelta(seconds=1))
    assert not is_late(promise, now=T0)
    assert not is_late(Promise("first_response", "met", T0), now=T0 + timedelta(days=1))


@pytest.mark.parametrize(
    ("status", "close_reason", "word"),
    [
        ("received", None, "received"),
        ("triaged", None, "received"),
        ("assigned", None, "in_progress"),
        ("in_progress", None, "in_progress"),
        ("reopened", None, "in_progress"),
        ("awaiting_customer", None, "awaiting_customer"),
        ("resolved", None, "resolved"),
        ("awaiting_confirmation", None, "resolved"),
        ("closed", "confirmed", "closed"),
        ("closed", "withdrawn", "withdrawn"),
        ("something_new", None, "in_progress"),
    ],
)
def test_the_customer_sees_six_plain_statuses(
    status: str, close_reason: str | None, word: str
) -> None:
    assert customer_status(status, close_reason) == word


def test_the_next_step_names_the_deadline_that_matters_now() -> None:
    first = Promise("first_response", "running", T0 + timedelta(hours=4))
    resolution = Promise("resolution", "running", T0 + timedelta(days=3))
    both = {"first_response": first, "resolution": resolution}

    def step(status: Any, promises: Any = both, now: datetime = T0, **kw: Any) -> Any:
        return next_step(
            status=status, promises=promises, closed_at=None, reopen_window=WINDOW, now=now, **kw
        )

    assert (step("received").key, step("received").due_at) == ("first_response", first.due_at)
    late = step("in_progress", now=T0 + timedelta(hours=5))
    assert late.key == "first_response_late"
    answered = {**both, "first_response": Promise("first_response", "met", first.due_at)}
    assert step("in_progress", answered).key == "resolution"
    replying = {**answered, "next_response": Promise("next_response", "running", T0)}
    assert step("in_progress", replying).key == "reply"
    assert step("received", {}).key == "working"
    assert step("awaiting_customer", question="Slip number?").question == "Slip number?"
    assert step("resolved").key == "resolved"
    assert step("withdrawn").key == "withdrawn"


def test_a_closed_complaint_says_until_when_a_message_reopens_it() -> None:
    closed_at = T0

    def step(now: datetime) -> Any:
        return next_step(
            status="closed", promises={}, closed_at=closed_at, reopen_window=WINDOW, now=now
        )

    assert step(T0 + WINDOW).key == "closed_reopen"  # the end belongs to the window
    assert step(T0 + WINDOW).until == T0 + WINDOW
    assert step(T0 + WINDOW + timedelta(microseconds=1)).key == "closed_new"


def test_an_answer_on_the_page_keeps_the_first_response_promise() -> None:
    running = {"first_response": Promise("first_response", "running", T0)}
    on_time = settle_first_response(running, answered_at=T0 - timedelta(minutes=5))
    assert on_time["first_response"] == Promise(
        "first_response", "met", T0, T0 - timedelta(minutes=5)
    )
    late = settle_first_response(running, answered_at=T0 + timedelta(minutes=5))
    assert (late["first_response"].state, late["first_response"].breached) == ("breached", True)
    assert settle_first_response(running, answered_at=None) == running
    stopped = {"first_response": Promise("first_response", "met", T0, T0)}
    assert settle_first_response(stopped, answered_at=T0 + timedelta(1)) == stopped


def test_the_promised_times_rows() -> None:
    rows = promise_rows({}, status="received", now=T0)
    assert [(r.metric, r.word) for r in rows] == [
        ("first_response", "pending"),
        ("resolution", "pending"),
    ]
    assert promise_rows({}, status="withdrawn", now=T0) == []
    promises = {
        "first_response": Promise("first_response", "met", T0, T0 + timedelta(hours=1)),
        "resolution": Promise("resolution", "running", T0 - timedelta(hours=1)),
    }
    rows = promise_rows(promises, status="in_progress", now=T0)
    assert [(r.word, r.moment) for r in rows] == [
        ("met", T0 + timedelta(hours=1)),
        ("late", T0 - timedelta(hours=1)),
    ]
    cancelled = {"resolution": Promise("resolution", "cancelled", T0)}
    assert [r.metric for r in promise_rows(cancelled, status="closed", now=T0)] == []


def _step(model: Any, minutes: int, **data: Any) -> Step:
    return Step(model.ce_type(), T0 + timedelta(minutes=minutes), data)


def test_the_timeline_in_plain_words_with_who_said_what() -> None:
    entries = timeline(
        [
            _step(ComplaintReceived, 0),
            Step("org.opencomplaints.complaint.triaged.v1", T0, {}),
            _step(ComplaintFirstResponseSent, 1, message="Refund sent.", agent_name="Li Na"),
            _step(ComplaintAwaitingCustomer, 2, question="Slip number?", agent_name="客服"),
            _step(CustomerMessageReceived, 3),
            _step(ComplaintAgentReplied, 4, message=None, agent_name="Li Na"),
            _step(ComplaintWithdrawn, 5, reason="Solved elsewhere"),
            _step(ComplaintClosed, 6),
            Step("org.opencomplaints.complaint.brand_new.v1", T0, {}),
        ],
        ["RF-7781 <script>"],
    )
    assert [(e.key, e.speaker, e.text, e.signature) for e in entries] == [
        ("received", "system", None, None),
        ("first_response", "agent", "Refund sent.", "Li Na"),
        ("question", "agent", "Slip number?", "客服"),
        ("customer_message", "customer", "RF-7781 <script>", None),
        ("reply_no_text", "agent", None, "Li Na"),
        ("withdrawn", "customer", "Solved elsewhere", None),
    ]
    assert event_name("org.opencomplaints.complaint.received.v1") == "complaint.received"


def test_the_open_question_is_the_latest_thing_an_agent_said() -> None:
    asked = timeline([_step(ComplaintAwaitingCustomer, 1, question="Slip?", agent_name="A")], [])
    assert open_question(asked) == "Slip?"
    answered = timeline(
        [
            _step(ComplaintAwaitingCustomer, 1, question="Slip?", agent_name="A"),
            _step(ComplaintAgentReplied, 2, message="Thanks", agent_name="A"),
        ],
        [],
    )
    assert open_question(answered) is None
    latest = latest_from_us(answered)
    assert latest is not None
    assert (latest.key, latest.text) == ("reply", "Thanks")
    written = timeline(
        [
            _step(ComplaintAgentReplied, 2, message="Thanks", agent_name="A"),
            _step(CustomerMessageReceived, 3),
        ],
        ["ok"],
    )
    assert latest_from_us(written) is None  # the customer spoke last


@pytest.mark.parametrize(
    ("raw", "text", "error"),
    [
        ("  Hello\r\nagain  ", "Hello\nagain", None),
        ("", None, "form.message.empty"),
        ("   \r\n ", None, "form.message.empty"),
        (None, None, "form.message.empty"),
        ("x" * MAX_MESSAGE, "x" * MAX_MESSAGE, None),
        ("x" * (MAX_MESSAGE + 1), None, "form.message.too_long"),
        ("a\r\n" * 5000, ("a\n" * 5000).strip(), None),  # CRLF counts as one character
        ("nul\x00here", None, "form.message.nul"),
        ("bell\x07", None, "form.message.control"),
        ("tab\tis fine", "tab\tis fine", None),
        ("<script>alert(1)</script>", "<script>alert(1)</script>", None),
    ],
)
def test_what_a_message_may_be(raw: str | None, text: str | None, error: str | None) -> None:
    checked = check_message(raw)
    assert (checked.text, checked.error) == (text, error)


def test_what_a_withdrawal_reason_and_a_submission_key_may_be() -> None:
    assert check_reason("").text is None
    assert check_reason(" Solved ").text == "Solved"
    assert check_reason("x" * 2001).error == "form.reason.too_long"
    assert check_reason("a\x00").error == "form.reason.nul"
    assert is_submission_key("aekRzYaIWCKa615CVDVZ2oAy")
    for bad in (None, "", "short", "x" * 65, "has space in it 0123", "<script>0123456789"):
        assert not is_submission_key(bad), bad


def test_rate_limit_keys_per_link_and_per_client() -> None:
    assert rate_keys("message", link="C1", client="1.2.3.4") == [
        ("message.link", "customer-pages:message:link:C1"),
        ("message.client", "customer-pages:message:client:1.2.3.4"),
    ]
    token = "s3cret-token"
    assert token not in link_of_token(token)
    assert len(link_of_token(token)) == 32


def test_rate_limits_take_overrides_of_known_names_only() -> None:
    assert limits_with({"view.link": "5/minute"})["view.link"] == "5/minute"
    assert limits_with({}) == DEFAULT_LIMITS
    with pytest.raises(ValueError, match="unknown rate limit"):
        limits_with({"views.link": "5/minute"})


def test_the_link_carries_its_token_in_the_path_and_logs_never_do() -> None:
    assert tracking_url("https://c.example.com/", "tok-EN_1") == "https://c.example.com/t/tok-EN_1"
    line = '1.2.3.4 - "GET /t/tok-EN_1 HTTP/1.1" 303; path=/t/abc?x=1 then /c/0195f3'
    assert redact_link_paths(line) == (
        '1.2.3.4 - "GET /t/[redacted] HTTP/1.1" 303; path=/t/[redacted]?x=1 then /c/0195f3'
    )


def test_the_page_words_exist_in_both_languages() -> None:
    assert Catalog().with_messages(WORDS).missing() == {}
    assert set(WORDS["zh-CN"]) == set(WORDS["en"])
