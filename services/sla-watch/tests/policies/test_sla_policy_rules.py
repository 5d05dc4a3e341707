"""Policy matching: first match wins, order matters, a valid set always matches."""

from __future__ import annotations

from dataclasses import replace

import pytest
from complaint_contracts.vocabulary import CATEGORIES, CHANNELS, PRIORITIES
from hypothesis import given
from hypothesis import strategies as st
from sla_watch.calendars.domain.holidays_cn import china_calendar
from sla_watch.policies.domain.policy import (
    DEFAULT_POLICIES,
    TIERS,
    WORKING_DAY_S,
    InvalidPolicySetError,
    NoMatchingPolicyError,
    Policy,
    check_targets,
    first_match,
    ordered,
    unmatched_priorities,
    validate_policies,
)
from sla_watch.policies.domain.terms import ComplaintFacts

facts_strategy = st.builds(
    ComplaintFacts,
    priority=st.sampled_from(PRIORITIES),
    category=st.none() | st.sampled_from(CATEGORIES),
    tier=st.none() | st.sampled_from(TIERS),
    channel=st.none() | st.sampled_from(CHANNELS),
)


@st.composite
def policies_strategy(draw: st.DrawFn, *, min_size: int = 0) -> list[Policy]:
    count = draw(st.integers(min_value=min_size, max_value=8))
    return [
        Policy(
            policy_id=f"p{i}",
            position=i + 1,
            name=f"policy {i}",
            calendar_id=draw(st.sampled_from(["24x7", "cn-mainland"])),
            first_response_s=draw(st.integers(1, 10**6)),
            next_response_s=draw(st.integers(1, 10**6)),
            resolution_s=draw(st.integers(1, 10**6)),
            priority=draw(st.none() | st.sampled_from(PRIORITIES)),
            category=draw(st.none() | st.sampled_from(CATEGORIES[:2])),
            tier=draw(st.none() | st.sampled_from(TIERS[:2])),
            channel=draw(st.none() | st.sampled_from(CHANNELS[:2])),
            enabled=draw(st.booleans()),
        )
        for i in range(count)
    ]


def _brute_force(policies: list[Policy], facts: ComplaintFacts) -> Policy | None:
    winners = [
        p
        for p in policies
        if p.enabled
        and p.priority in (None, facts.priority)
        and p.category in (None, facts.category)
        and p.tier in (None, facts.tier)
        and p.channel in (None, facts.channel)
    ]
    return min(winners, key=lambda p: p.position) if winners else None


@given(policies_strategy(), facts_strategy)
def test_first_match_is_the_matching_policy_with_the_lowest_position(
    policies: list[Policy], facts: ComplaintFacts
) -> None:
    expected = _brute_force(policies, facts)
    if expected is None:
        with pytest.raises(NoMatchingPolicyError):
            first_match(policies, facts)
    else:
        assert first_match(policies, facts) == expected


@given(policies_strategy(min_size=1), facts_strategy, st.data())
def test_removing_a_policy_that_does_not_match_changes_nothing(
    policies: list[Policy], facts: ComplaintFacts, data: st.DataObject
) -> None:
    victim = data.draw(st.sampled_from(policies))
    if victim.matches(facts):
        return
    rest = [p for p in policies if p is not victim]
    assert _brute_force(rest, facts) == _brute_force(policies, facts)
    if _brute_force(policies, facts) is not None:
        assert first_match(rest, facts) == first_match(policies, facts)


@given(policies_strategy(), facts_strategy)
def test_a_valid_set_matches_every_complaint(policies: list[Policy], facts: ComplaintFacts) -> None:
    try:
        validate_policies(policies)
    except InvalidPolicySetError:
        return
    assert first_match(policies, facts).matches(facts)


@given(policies_strategy(), facts_strategy)
def test_a_catch_all_appended_covers_every_priority(
    policies: list[Policy], facts: ComplaintFacts
) -> None:
    catch_all = replace(DEFAULT_POLICIES[0], policy_id="all", priority=None, position=99)
    full = [*policies, catch_all]
    assert unmatched_priorities(full) == []
    assert first_match(full, facts) == (_brute_force(policies, facts) or catch_all)


def test_order_matters() -> None:
    general = replace(DEFAULT_POLICIES[2], policy_id="general", position=1)
    special = replace(
        DEFAULT_POLICIES[2], policy_id="vip", position=2, tier="vip", resolution_s=3600
    )
    vip = ComplaintFacts(priority="P3", tier="vip")
    assert first_match([general, special], vip).policy_id == "general"
    assert first_match([special, general], vip).policy_id == "vip"
    assert first_match([special, general], ComplaintFacts(priority="P3")).policy_id == "general"
    # ordered() sorts by position and renumbers 1..n
    assert [p.policy_id for p in ordered([special, general])] == ["general", "vip"]
    assert [p.position for p in ordered([replace(special, position=7), general])] == [1, 2]


def test_disabled_policies_never_match() -> None:
    off = replace(DEFAULT_POLICIES[0], enabled=False)
    with pytest.raises(NoMatchingPolicyError):
        first_match([off], ComplaintFacts(priority="P1"))


def test_the_default_matrix() -> None:
    validate_policies(DEFAULT_POLICIES, calendar_ids={"24x7", "cn-mainland"})
    by_priority = {p.priority: p for p in DEFAULT_POLICIES}
    assert (by_priority["P1"].calendar_id, by_priority["P1"].first_response_s) == ("24x7", 7200)
    assert by_priority["P1"].resolution_s == 86_400
    assert by_priority["P2"].first_response_s == 4 * 3600
    assert by_priority["P3"].first_response_s == WORKING_DAY_S == 27_000
    assert by_priority["P3"].resolution_s == 3 * WORKING_DAY_S
    assert by_priority["P4"].resolution_s == 5 * WORKING_DAY_S
    for p in DEFAULT_POLICIES:
        assert p.next_response_s == p.first_response_s
        assert p.first_response_s < p.resolution_s
    # The reading keeps the matrix ordered: a higher priority never waits longer.
    ranked = [by_priority[p] for p in PRIORITIES]
    assert [p.resolution_s for p in ranked[1:]] == sorted(p.resolution_s for p in ranked[1:])
    # a working day is exactly one day of cn-mainland's hours
    calendar = china_calendar()
    assert sum(iv.seconds for iv in calendar.weekly[0]) == WORKING_DAY_S


def test_validation_explains_what_is_wrong() -> None:
    without_p2 = [p for p in DEFAULT_POLICIES if p.priority != "P2"]
    with pytest.raises(InvalidPolicySetError, match="matches priority P2"):
        validate_policies(without_p2)
    narrowed = [*without_p2, replace(DEFAULT_POLICIES[1], channel="phone")]
    with pytest.raises(InvalidPolicySetError, match="P2"):
        validate_policies(narrowed)
    bad = replace(DEFAULT_POLICIES[0], first_response_s=0, tier="platinum")
    with pytest.raises(InvalidPolicySetError) as caught:
        validate_policies([bad, *DEFAULT_POLICIES[1:]], calendar_ids={"cn-mainland"})
    text = str(caught.value)
    assert "first_response target" in text
    assert "unknown tier 'platinum'" in text
    assert "unknown calendar '24x7'" in text
    with pytest.raises(InvalidPolicySetError, match="used twice"):
        validate_policies([*DEFAULT_POLICIES, DEFAULT_POLICIES[0]])


def test_configured_targets_are_checked() -> None:
    assert check_targets({"P1": 6}) == {"P1": 6}
    with pytest.raises(ValueError, match="unknown priorities"):
        check_targets({"P9": 1})
    with pytest.raises(ValueError, match="seconds"):
        check_targets({"P1": 0})
