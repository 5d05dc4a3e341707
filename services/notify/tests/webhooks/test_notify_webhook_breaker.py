"""The circuit breaker per endpoint: its graph, and one probe at most while half-open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from notify.webhooks.domain.breaker import (
    GRAPH,
    STATES,
    Ask,
    Breaker,
    BreakerPolicy,
    Command,
    RecordFailure,
    RecordSuccess,
    decide,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICY = BreakerPolicy(
    failure_threshold=3, cool_down=timedelta(seconds=60), probe_timeout=timedelta(seconds=30)
)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _run(commands: list[Command], breaker: Breaker | None = None) -> Breaker:
    current = breaker or Breaker()
    for command in commands:
        current = decide(current, command, POLICY).breaker
    return current


def _opened() -> Breaker:
    return _run([RecordFailure(_at(0), _at(1))] * 3)


def test_closed_lets_requests_through() -> None:
    step = decide(Breaker(), Ask(T0), POLICY)
    assert step.let_through
    assert step.breaker == Breaker()


def test_it_opens_after_n_consecutive_failures_only() -> None:
    two = _run([RecordFailure(_at(0), _at(1))] * 2)
    assert two.state == "closed"
    assert two.consecutive_failures == 2
    reset = _run([RecordSuccess(_at(2))], two)
    assert reset.consecutive_failures == 0
    assert _run([RecordFailure(_at(3), _at(4))] * 2, reset).state == "closed"
    opened = _opened()
    assert opened == Breaker("open", 0, _at(1))


def test_open_refuses_until_the_cool_down_then_lets_one_probe() -> None:
    opened = _opened()
    early = decide(opened, Ask(_at(60)), POLICY)
    assert not early.let_through
    assert early.breaker == opened
    probe = decide(opened, Ask(_at(61)), POLICY)
    assert probe.let_through
    assert probe.breaker == Breaker("half_open", 0, _at(61))
    second = decide(probe.breaker, Ask(_at(62)), POLICY)
    assert not second.let_through


def test_the_probes_success_closes_and_its_failure_reopens() -> None:
    half = decide(_opened(), Ask(_at(61)), POLICY).breaker
    assert _run([RecordSuccess(_at(61))], half) == Breaker("closed", 0, _at(61))
    assert _run([RecordFailure(_at(61), _at(65))], half) == Breaker("open", 0, _at(65))


def test_an_unanswered_probe_reopens_after_the_probe_timeout() -> None:
    half = decide(_opened(), Ask(_at(61)), POLICY).breaker
    assert not decide(half, Ask(_at(90)), POLICY).let_through
    step = decide(half, Ask(_at(91)), POLICY)
    assert not step.let_through
    assert step.breaker == Breaker("open", 0, _at(91))
    assert decide(step.breaker, Ask(_at(151)), POLICY).let_through  # a new probe later


def test_answers_sent_before_the_state_began_are_ignored() -> None:
    opened = _opened()
    half = decide(opened, Ask(_at(61)), POLICY).breaker
    # A slow success from before the breaker opened does not close it, nor decide the probe.
    assert _run([RecordSuccess(_at(0))], opened) == opened
    assert _run([RecordSuccess(_at(0))], half) == half
    assert _run([RecordFailure(_at(0), _at(62))], half) == half
    # After closing, old failures do not count towards a new opening.
    closed = _run([RecordSuccess(_at(61))], half)
    assert _run([RecordFailure(_at(0), _at(70))] * 5, closed).state == "closed"


@pytest.mark.parametrize(
    "kwargs",
    [{"failure_threshold": 0}, {"cool_down": timedelta(0)}, {"probe_timeout": timedelta(0)}],
)
def test_a_policy_that_makes_no_sense_is_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"threshold|positive"):
        BreakerPolicy(**kwargs)  # type: ignore[arg-type]


# -- properties over arbitrary sequences of commands


@st.composite
def command_runs(draw: st.DrawFn) -> list[Command]:
    """Commands in time order; results name a send time at or before the moment they arrive."""
    now = 0.0
    commands: list[Command] = []
    for _ in range(draw(st.integers(min_value=0, max_value=60))):
        now += draw(st.sampled_from([0.0, 1.0, 5.0, 29.0, 31.0, 59.0, 61.0, 120.0]))
        sent = now - draw(st.sampled_from([0.0, 0.0, 1.0, 30.0, 90.0]))
        kind = draw(st.sampled_from(["ask", "ask", "success", "failure"]))
        if kind == "ask":
            commands.append(Ask(_at(now)))
        elif kind == "success":
            commands.append(RecordSuccess(_at(sent)))
        else:
            commands.append(RecordFailure(_at(sent), _at(now)))
    return commands


@given(command_runs())
def test_no_sequence_leaves_the_graph(commands: list[Command]) -> None:
    breaker = Breaker()
    for command in commands:
        step = decide(breaker, command, POLICY)
        assert step.breaker.state in STATES
        assert step.breaker.state in GRAPH[breaker.state]
        assert step.old_state == breaker.state
        breaker = step.breaker


@given(command_runs())
def test_half_open_never_lets_more_than_one_probe_through(commands: list[Command]) -> None:
    breaker = Breaker()
    through_while_half_open = 0
    for command in commands:
        step = decide(breaker, command, POLICY)
        if breaker.state != "half_open" and step.breaker.state == "half_open":
            through_while_half_open = 1 if step.let_through else 0  # the probe that entered it
        elif breaker.state == "half_open" and step.let_through:
            through_while_half_open += 1
        assert through_while_half_open <= 1
        if step.breaker.state != "half_open":
            through_while_half_open = 0
        breaker = step.breaker


@given(command_runs())
def test_open_lets_nothing_through_and_only_asks_let_through(commands: list[Command]) -> None:
    breaker = Breaker()
    for command in commands:
        step = decide(breaker, command, POLICY)
        if step.let_through:
            assert isinstance(command, Ask)
            assert breaker.state in ("closed", "open")  # open: only the probe, entering half-open
            if breaker.state == "open":
                assert step.breaker.state == "half_open"
                assert breaker.since is not None
                assert command.now - breaker.since >= POLICY.cool_down
        breaker = step.breaker


@given(command_runs())
def test_it_opens_only_after_the_threshold_of_consecutive_failures(
    commands: list[Command],
) -> None:
    breaker = Breaker()
    for command in commands:
        step = decide(breaker, command, POLICY)
        if breaker.state == "closed" and step.breaker.state == "open":
            assert isinstance(command, RecordFailure)
            assert breaker.consecutive_failures == POLICY.failure_threshold - 1
        breaker = step.breaker
