"""The §3 state machine: every legal move, the closure guard, and properties over
arbitrary command sequences."""

from __future__ import annotations

import pytest
from complaint_contracts.vocabulary import PRIORITIES, Priority
from hypothesis import given
from hypothesis import strategies as st
from routing.cases.domain.lifecycle import (
    GRAPH,
    REASSIGNABLE,
    STATES,
    Assign,
    AutoClose,
    AwaitCustomer,
    CloseDuplicate,
    Command,
    Confirm,
    IllegalTransition,
    Reassign,
    RecordFirstResponse,
    RecordReply,
    Reopen,
    RequestConfirmation,
    Resolve,
    Resume,
    State,
    Transition,
    Triage,
    Withdraw,
    decide,
    missing_closure_fields,
    raise_priority,
)

FULL = Resolve(solution_summary="refunded", solution_type="refund", root_cause="batch job")


def moved(state: State, command: Command) -> State:
    outcome = decide(state, command)
    assert isinstance(outcome, Transition), outcome
    return outcome.new_state


@pytest.mark.parametrize(
    ("state", "command", "expected"),
    [
        ("received", Triage(), "triaged"),
        ("triaged", Assign(), "assigned"),
        ("assigned", RecordFirstResponse(), "in_progress"),
        ("reopened", RecordFirstResponse(), "in_progress"),
        ("in_progress", RecordReply(), "in_progress"),
        ("in_progress", AwaitCustomer(), "awaiting_customer"),
        ("awaiting_customer", Resume(trigger="customer_message"), "in_progress"),
        ("awaiting_customer", Resume(trigger="agent"), "in_progress"),
        ("in_progress", FULL, "resolved"),
        ("resolved", RequestConfirmation(), "awaiting_confirmation"),
        ("awaiting_confirmation", RequestConfirmation(), "awaiting_confirmation"),
        ("awaiting_confirmation", Confirm(), "closed"),
        ("resolved", Confirm(), "closed"),
        ("awaiting_confirmation", AutoClose(), "closed"),
        ("received", CloseDuplicate(), "closed"),
        ("in_progress", CloseDuplicate(), "closed"),
        ("received", Withdraw(), "closed"),
        ("awaiting_customer", Withdraw(), "closed"),
        ("reopened", Withdraw(), "closed"),
        ("awaiting_confirmation", Withdraw(), "closed"),
        ("resolved", AutoClose(), "closed"),
        ("resolved", Reopen(priority="P3"), "reopened"),
        ("awaiting_confirmation", Reopen(priority="P3"), "reopened"),
        ("closed", Reopen(priority="P3"), "reopened"),
        ("reopened", Assign(), "assigned"),
        ("in_progress", Reassign(), "in_progress"),
        ("awaiting_customer", Reassign(), "awaiting_customer"),
    ],
)
def test_legal_moves(state: State, command: Command, expected: State) -> None:
    assert moved(state, command) == expected


@pytest.mark.parametrize(
    ("state", "command"),
    [
        ("received", Assign()),
        ("assigned", FULL),
        ("awaiting_customer", FULL),
        ("assigned", RecordReply()),
        ("in_progress", RecordFirstResponse()),
        ("in_progress", Confirm()),
        ("in_progress", Reopen(priority="P3")),
        ("closed", Reassign()),
        ("closed", Confirm()),
        ("received", Reassign()),
        ("assigned", Resume()),
    ],
)
def test_illegal_moves_name_state_and_command(state: State, command: Command) -> None:
    outcome = decide(state, command)
    assert isinstance(outcome, IllegalTransition)
    assert outcome.state == state
    assert outcome.command == type(command).__name__
    assert state in outcome.reason
    assert outcome.command in outcome.reason
    assert outcome.missing == ()


def test_resolve_lists_every_missing_field() -> None:
    outcome = decide("in_progress", Resolve(solution_summary="  ", root_cause=None))
    assert isinstance(outcome, IllegalTransition)
    assert outcome.missing == ("solution_summary", "solution_type", "root_cause")
    partial = decide("in_progress", Resolve(solution_summary="x", solution_type="refund"))
    assert isinstance(partial, IllegalTransition)
    assert partial.missing == ("root_cause",)


def test_wrong_state_wins_over_the_closure_guard() -> None:
    outcome = decide("assigned", Resolve())
    assert isinstance(outcome, IllegalTransition)
    assert outcome.missing == ()


@pytest.mark.parametrize(
    ("before", "after"), [("P4", "P3"), ("P3", "P2"), ("P2", "P2"), ("P1", "P1")]
)
def test_reopen_raises_priority_one_level_capped_at_p2(before: Priority, after: Priority) -> None:
    assert raise_priority(before) == after
    outcome = decide("resolved", Reopen(priority=before))
    assert isinstance(outcome, Transition)
    assert outcome.new_priority == after


def test_only_reopen_changes_the_priority() -> None:
    assert decide("in_progress", RecordReply()) == Transition("in_progress", "in_progress")


def test_the_happy_path_of_section_3() -> None:
    state: State = "received"
    path = [
        Triage(),
        Assign(),
        RecordFirstResponse(),
        AwaitCustomer(),
        Resume(trigger="customer_message"),
        FULL,
        RequestConfirmation(),
        Reopen(priority="P3"),
        Assign(),
        RecordFirstResponse(),
        FULL,
        RequestConfirmation(),
        Confirm(),
    ]
    for command in path:
        state = moved(state, command)
    assert state == "closed"


# -- properties

texts = st.one_of(st.none(), st.text(max_size=5))
commands: st.SearchStrategy[Command] = st.one_of(
    st.just(Triage()),
    st.just(Assign()),
    st.just(RecordFirstResponse()),
    st.just(RecordReply()),
    st.just(AwaitCustomer()),
    st.builds(Resume, trigger=st.sampled_from(["customer_message", "agent"])),
    st.builds(Resolve, solution_summary=texts, solution_type=texts, root_cause=texts),
    st.just(RequestConfirmation()),
    st.just(Confirm()),
    st.just(AutoClose()),
    st.builds(Reopen, priority=st.sampled_from(PRIORITIES)),
    st.just(Reassign()),
    st.just(CloseDuplicate()),
    st.just(Withdraw()),
)


@given(start=st.sampled_from(STATES), sequence=st.lists(commands, max_size=40))
def test_no_sequence_leaves_the_graph(start: State, sequence: list[Command]) -> None:
    state = start
    for command in sequence:
        outcome = decide(state, command)
        if isinstance(outcome, Transition):
            assert outcome.old_state == state
            assert outcome.new_state in STATES
            assert outcome.new_state in GRAPH[state], (state, command, outcome)
            state = outcome.new_state
        else:
            assert outcome.state == state  # an illegal command changes nothing


@given(command=commands)
def test_only_a_reopen_leaves_closed(command: Command) -> None:
    """§3: a customer message within the reopen window reopens a closed complaint; nothing
    else moves it (a later message opens a new complaint instead)."""
    outcome = decide("closed", command)
    if isinstance(command, Reopen):
        assert outcome == Transition("closed", "reopened", raise_priority(command.priority))
    else:
        assert isinstance(outcome, IllegalTransition)


def test_a_closed_complaint_reopens_and_goes_round_again() -> None:
    state: State = "closed"
    for command in (Reopen(priority="P2"), Assign(), RecordFirstResponse(), FULL, Confirm()):
        state = moved(state, command)
    assert state == "closed"
    assert decide("closed", Reopen(priority="P2")) == Transition("closed", "reopened", "P2")


@given(state=st.sampled_from(STATES), command=commands)
def test_resolve_never_succeeds_without_the_three_fields(state: State, command: Command) -> None:
    outcome = decide(state, command)
    if isinstance(command, Resolve) and isinstance(outcome, Transition):
        assert not missing_closure_fields(
            solution_summary=command.solution_summary,
            solution_type=command.solution_type,
            root_cause=command.root_cause,
        )
        assert outcome.new_state == "resolved"


@given(state=st.sampled_from(STATES), priority=st.sampled_from(PRIORITIES))
def test_reopen_always_raises_one_level_capped(state: State, priority: Priority) -> None:
    outcome = decide(state, Reopen(priority=priority))
    if isinstance(outcome, Transition):
        rank = PRIORITIES.index
        assert outcome.new_priority is not None
        expected = priority if priority in ("P1", "P2") else PRIORITIES[rank(priority) - 1]
        assert outcome.new_priority == expected
        assert outcome.new_priority != "P1" or priority == "P1"  # P1 only by triage rules


@given(state=st.sampled_from(STATES))
def test_reassign_keeps_the_state_in_every_open_state(state: State) -> None:
    outcome = decide(state, Reassign())
    if state in REASSIGNABLE:
        assert outcome == Transition(state, state)
    else:
        assert isinstance(outcome, IllegalTransition)


def test_every_edge_of_the_graph_is_reachable_by_some_command() -> None:
    samples: list[Command] = [
        Triage(),
        Assign(),
        RecordFirstResponse(),
        RecordReply(),
        AwaitCustomer(),
        Resume(),
        FULL,
        RequestConfirmation(),
        Confirm(),
        AutoClose(),
        Reopen(priority="P3"),
        Reassign(),
        CloseDuplicate(),
        Withdraw(),
    ]
    for state, targets in GRAPH.items():
        reached = {o.new_state for c in samples if isinstance(o := decide(state, c), Transition)}
        assert reached == set(targets), state


@pytest.mark.parametrize("command", [Withdraw(), CloseDuplicate()])
def test_a_closed_case_cannot_be_withdrawn_or_merged(command: Command) -> None:
    decision = decide("closed", command)
    assert isinstance(decision, IllegalTransition)
    assert "not allowed in state closed" in decision.reason
