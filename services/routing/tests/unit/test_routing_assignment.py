"""Least-loaded assignment under capacity, and who may act on a case."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from routing.domain.access import may_act
from routing.domain.assignment import AgentLoad, pick_agent


def test_least_loaded_agent_of_the_team_wins() -> None:
    agents = [
        AgentLoad("b", "billing", 10, 3),
        AgentLoad("a", "billing", 10, 5),
        AgentLoad("c", "quality", 10, 0),
    ]
    assert pick_agent(agents, team="billing") == "b"


def test_ties_go_to_the_smallest_id() -> None:
    agents = [AgentLoad("z", "t", 5, 1), AgentLoad("m", "t", 5, 1)]
    assert pick_agent(agents, team="t") == "m"


def test_agents_at_capacity_are_skipped_and_nobody_free_means_the_queue() -> None:
    assert pick_agent([AgentLoad("a", "t", 2, 2), AgentLoad("b", "t", 3, 2)], team="t") == "b"
    assert pick_agent([AgentLoad("a", "t", 2, 2), AgentLoad("b", "t", 0, 0)], team="t") is None
    assert pick_agent([], team="t") is None


loads = st.builds(
    AgentLoad,
    agent_id=st.text(alphabet="abcdef", min_size=1, max_size=3),
    team=st.sampled_from(["t", "u"]),
    capacity=st.integers(0, 5),
    open_cases=st.integers(0, 6),
)


@given(agents=st.lists(loads, max_size=12))
def test_the_pick_is_free_of_the_team_and_minimal(agents: list[AgentLoad]) -> None:
    chosen = pick_agent(agents, team="t")
    free = [a for a in agents if a.team == "t" and a.open_cases < a.capacity]
    if not free:
        assert chosen is None
        return
    best = min((a.open_cases, a.agent_id) for a in free)
    assert chosen == best[1]
    assert pick_agent(list(reversed(agents)), team="t") == chosen  # order does not matter


def test_agents_only_on_their_own_cases() -> None:
    def agent_li(assignee: str | None) -> bool:
        return may_act(
            roles={"agent"},
            subject="li",
            team="billing",
            case_team="billing",
            case_assignee=assignee,
        )

    assert agent_li("li")
    assert not agent_li("wang")
    assert not agent_li(None)


def test_leads_on_their_own_team_only_and_never_without_a_team_claim() -> None:
    assert may_act(
        roles={"lead"}, subject="x", team="billing", case_team="billing", case_assignee=None
    )
    assert not may_act(
        roles={"lead"}, subject="x", team="quality", case_team="billing", case_assignee=None
    )
    assert not may_act(
        roles={"lead"}, subject="x", team=None, case_team="billing", case_assignee="li"
    )


def test_managers_on_every_case_and_other_roles_on_none() -> None:
    assert may_act(roles={"manager"}, subject="m", team="x", case_team="y", case_assignee="z")
    assert not may_act(roles={"service"}, subject="s", team=None, case_team="y", case_assignee="s")
    assert not may_act(roles=set(), subject="s", team=None, case_team="y", case_assignee="s")
