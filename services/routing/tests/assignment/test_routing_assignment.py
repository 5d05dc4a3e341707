"""The assignment rules of §5 (pure): qualification, ranking, VIP, seniority, the queue;
and who may act on a case."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from routing.assignment.domain.agent_choice import (
    AgentSnapshot,
    CaseNeeds,
    QueuedCase,
    has_room,
    needs_senior,
    next_queued_for,
    pick_agent,
    qualifies,
    rank_agents,
    transfer_target_problem,
)
from routing.cases.domain.access import may_act

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
BILLING = CaseNeeds(team="billing", category="billing_refund", language="zh-CN", priority="P3")


def agent(agent_id: str, **kw: object) -> AgentSnapshot:
    fields: dict[str, object] = {
        "team": "billing",
        "level": "intermediate",
        "capacity": 5,
        "load": 0,
    }
    fields.update(kw)
    return AgentSnapshot(agent_id=agent_id, **fields)  # type: ignore[arg-type]


def test_least_loaded_qualified_agent_of_the_team_wins() -> None:
    agents = [agent("b", load=3), agent("a", load=5, capacity=10), agent("c", team="quality")]
    assert pick_agent(agents, BILLING) == "b"


def test_ties_go_to_the_least_recently_assigned_then_the_never_assigned_first() -> None:
    agents = [
        agent("a", load=1, last_assigned_at=T0 + timedelta(minutes=5)),
        agent("b", load=1, last_assigned_at=T0),
        agent("c", load=1),
    ]
    assert rank_agents(agents, BILLING) == ["c", "b", "a"]


def test_round_robin_spreads_equal_agents_in_turn() -> None:
    agents = {i: agent(i) for i in ("x", "y", "z")}
    picks = []
    for minute in range(6):
        chosen = pick_agent(agents.values(), BILLING)
        assert chosen is not None
        picks.append(chosen)
        a = agents[chosen]
        agents[chosen] = agent(
            chosen, load=a.load + 1, last_assigned_at=T0 + timedelta(minutes=minute)
        )
    assert picks == ["x", "y", "z", "x", "y", "z"]


def test_full_offline_and_unskilled_agents_are_skipped() -> None:
    agents = [
        agent("full", load=5),
        agent("away", online=False),
        agent("english", languages=frozenset({"en"})),
        agent("logistics", categories=frozenset({"delivery_logistics"})),
        agent("ok", categories=frozenset({"billing_refund"}), languages=frozenset({"zh-CN"})),
    ]
    assert rank_agents(agents, BILLING) == ["ok"]
    assert pick_agent(agents[:4], BILLING) is None
    assert pick_agent([], BILLING) is None


def test_no_skills_means_every_category_of_the_team_and_every_language() -> None:
    assert qualifies(agent("a"), BILLING)
    assert not qualifies(agent("a", team="quality"), BILLING)


def test_p1_and_escalated_cases_need_a_senior() -> None:
    p1 = CaseNeeds(team="billing", category="billing_refund", language="en", priority="P1")
    escalated = CaseNeeds(
        team="billing", category="billing_refund", language="en", priority="P3", escalation_level=1
    )
    agents = [agent("junior", level="junior"), agent("senior", level="senior", load=4)]
    assert needs_senior(p1)
    assert needs_senior(escalated)
    assert not needs_senior(BILLING)
    assert rank_agents(agents, p1) == rank_agents(agents, escalated) == ["senior"]
    assert rank_agents(agents, BILLING) == ["junior", "senior"]


def test_a_vip_goes_to_the_account_manager_when_free_else_the_normal_rule() -> None:
    vip = CaseNeeds(
        team="billing", category="billing_refund", language="en", priority="P2", tier="vip"
    )
    team = [agent("a"), agent("b", load=1)]
    manager = agent("mgr", team="key-accounts", load=3)
    assert rank_agents(team, vip, account_manager=manager) == ["mgr", "a", "b"]
    assert pick_agent(team, vip, account_manager=agent("mgr", load=5)) == "a"
    assert pick_agent(team, vip, account_manager=agent("mgr", online=False)) == "a"
    standard = CaseNeeds(team="billing", category="billing_refund", language="en", priority="P2")
    assert pick_agent(team, standard, account_manager=manager) == "a"
    p1_vip = CaseNeeds(
        team="billing", category="billing_refund", language="en", priority="P1", tier="vip"
    )
    assert pick_agent([agent("s", level="senior")], p1_vip, account_manager=manager) == "s"


def test_the_queue_goes_longest_waiting_first_among_what_the_agent_can_take() -> None:
    p1 = CaseNeeds(team="billing", category="billing_refund", language="zh-CN", priority="P1")
    english = CaseNeeds(team="billing", category="billing_refund", language="en", priority="P3")
    queued = [
        QueuedCase("late", BILLING, T0 + timedelta(minutes=9)),
        QueuedCase("urgent", p1, T0),
        QueuedCase("english", english, T0 + timedelta(minutes=1)),
        QueuedCase("early", BILLING, T0 + timedelta(minutes=2)),
    ]
    chinese_junior = agent("j", level="junior", languages=frozenset({"zh-CN"}))
    assert next_queued_for(chinese_junior, queued) == queued[3]
    assert next_queued_for(agent("s", level="senior"), queued) == queued[1]
    assert next_queued_for(agent("s", level="senior", load=5), queued) is None
    assert next_queued_for(agent("s", level="senior", online=False), queued) is None


def test_a_named_transfer_target_must_be_online_with_room_and_senior_for_p1() -> None:
    p1 = CaseNeeds(team="billing", category="billing_refund", language="en", priority="P1")
    assert transfer_target_problem(agent("a"), BILLING) is None
    assert transfer_target_problem(agent("a", categories=frozenset({"other"})), BILLING) is None
    assert transfer_target_problem(agent("a", online=False), BILLING) == "offline"
    assert transfer_target_problem(agent("a", load=5), BILLING) == "at-capacity"
    assert transfer_target_problem(agent("a"), p1) == "not-senior"
    assert transfer_target_problem(agent("a", team="quality"), BILLING) == "other-team"


# -- properties

agents_strategy = st.builds(
    AgentSnapshot,
    agent_id=st.text(alphabet="abcdef", min_size=1, max_size=3),
    team=st.sampled_from(["billing", "quality"]),
    level=st.sampled_from(["junior", "intermediate", "senior"]),
    capacity=st.integers(0, 4),
    load=st.integers(0, 5),
    online=st.booleans(),
    categories=st.frozensets(st.sampled_from(["billing_refund", "other"]), max_size=2),
    languages=st.frozensets(st.sampled_from(["zh-CN", "en"]), max_size=2),
    last_assigned_at=st.none() | st.integers(0, 100).map(lambda m: T0 + timedelta(minutes=m)),
)
needs_strategy = st.builds(
    CaseNeeds,
    team=st.just("billing"),
    category=st.sampled_from(["billing_refund", "other"]),
    language=st.sampled_from(["zh-CN", "en"]),
    priority=st.sampled_from(["P1", "P2", "P3", "P4"]),
    escalation_level=st.integers(0, 3),
    tier=st.sampled_from(["standard", "vip"]),
)


def _unique(agents: list[AgentSnapshot]) -> list[AgentSnapshot]:
    return list({a.agent_id: a for a in agents}.values())


@given(
    st.lists(agents_strategy, max_size=10).map(_unique),
    needs_strategy,
    st.none() | agents_strategy.map(lambda a: replace(a, agent_id=f"m-{a.agent_id}")),
)
def test_every_ranked_agent_is_online_under_capacity_and_of_the_right_level(
    agents: list[AgentSnapshot], needs: CaseNeeds, manager: AgentSnapshot | None
) -> None:
    ranked = rank_agents(agents, needs, account_manager=manager)
    by_id = {a.agent_id: a for a in agents}
    assert len(ranked) == len(set(ranked))
    for position, agent_id in enumerate(ranked):
        if manager is not None and agent_id == manager.agent_id:
            chosen = manager  # only first, only for a VIP
            assert position == 0
            assert needs.tier == "vip"
        else:
            chosen = by_id[agent_id]
            assert qualifies(chosen, needs)  # team, skill, language, level
        assert has_room(chosen), chosen  # never over capacity, never offline
        if needs_senior(needs):
            assert chosen.level == "senior"  # P1 / escalated never to a non-senior


@given(st.lists(agents_strategy, max_size=10).map(_unique), needs_strategy)
def test_the_pick_is_the_least_loaded_qualified_agent_whatever_the_order(
    agents: list[AgentSnapshot], needs: CaseNeeds
) -> None:
    chosen = pick_agent(agents, needs)
    free = [a for a in agents if has_room(a) and qualifies(a, needs)]
    if not free:
        assert chosen is None
        return
    assert chosen is not None
    assert min(a.load for a in free) == next(a.load for a in free if a.agent_id == chosen)
    assert pick_agent(list(reversed(agents)), needs) == chosen  # order does not matter


@given(
    agents_strategy,
    st.lists(st.tuples(st.uuids().map(str), needs_strategy, st.integers(0, 1000)), max_size=10),
)
def test_the_queue_pick_is_the_oldest_case_the_agent_qualifies_for(
    me: AgentSnapshot, rows: list[tuple[str, CaseNeeds, int]]
) -> None:
    queued = [QueuedCase(i, n, T0 + timedelta(seconds=s)) for i, n, s in rows]
    chosen = next_queued_for(me, queued)
    fitting = [q for q in queued if qualifies(me, q.needs)]
    if not has_room(me) or not fitting:
        assert chosen is None
        return
    assert chosen is not None
    assert qualifies(me, chosen.needs)
    assert chosen.queued_at == min(q.queued_at for q in fitting)


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
