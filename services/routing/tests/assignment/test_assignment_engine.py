"""The assignment engine on SQLite: load counters, the team queue and its draining,
seniority, VIP account managers, transfers, availability, ownership and the recount."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from complaint_contracts.events import ComplaintAssigned, ComplaintReceived, CustomerView
from complaint_runtime.auth import Principal
from complaint_runtime.database import Database
from complaint_runtime.errors import DomainError
from complaint_runtime.problems import status_of
from routing.cases import service as cases
from routing.db import Agent, Case
from routing.staffing import service as staffing
from sqlalchemy import update

SOLUTION = {"solution_summary": "refund re-sent", "solution_type": "refund", "root_cause": "bug"}
MANAGER = Principal("mgr-sun", frozenset({"manager"}), None)


def staff(sub: str, *roles: str, team: str | None = "billing") -> Principal:
    return Principal(sub, frozenset(roles or {"agent"}), team)


async def case_of(database: Database, complaint_id: str) -> Case:
    return (await cases.view_case(database=database, complaint_id=complaint_id)).case


async def load_of(database: Database, agent_id: str) -> int:
    return (await staffing.get_agent(database=database, agent_id=agent_id)).open_load


async def resolve(database: Database, complaint_id: str, agent_id: str) -> None:
    who = staff(agent_id)
    await cases.record_first_response(database=database, complaint_id=complaint_id, principal=who)
    await cases.resolve(database=database, complaint_id=complaint_id, principal=who, **SOLUTION)


async def put_agent(database: Database, agent_id: str, **fields: Any) -> Agent:
    values: dict[str, Any] = {
        "team": "billing",
        "level": "intermediate",
        "capacity": 1,
        "categories": [],
        "languages": [],
        "availability": "online",
    }
    values.update(fields)
    return await staffing.put_agent(
        database=database, agent_id=agent_id, fields=values, actor="admin-1"
    )


async def test_full_agents_queue_cases_and_a_resolve_drains_the_longest_waiting(
    database: Database, new_case: Any, seed: Any, outbox: Any
) -> None:
    await seed([{"id": "li", "team": "billing", "capacity": 1}])
    first, second, third = [await new_case() for _ in range(3)]
    assert (await case_of(database, first)).assignee == "li"
    for queued in (second, third):
        case = await case_of(database, queued)
        assert (case.assignee, case.owner, case.status) == (None, None, "assigned")
        assert case.queued_at is not None
    assert await load_of(database, "li") == 1
    queue = await staffing.team_queue(database=database, team="billing", principal=MANAGER)
    assert [e.complaint_id for e in queue] == [second, third]

    await resolve(database, first, "li")

    taken = await case_of(database, second)
    assert (taken.assignee, taken.owner, taken.queued_at) == ("li", "li", None)
    assert (await case_of(database, third)).assignee is None
    assert await load_of(database, "li") == 1  # one released, one claimed
    event = (await outbox(second))[-1].data
    assert isinstance(event, ComplaintAssigned)
    assert (event.assignee, event.handoff) == ("li", False)
    assert "queue" in event.reason
    view = await cases.view_case(database=database, complaint_id=second)
    assert view.actions[-1].action == "assigned_from_queue"


async def test_coming_online_or_more_capacity_drains_the_queue(
    database: Database, new_case: Any, seed: Any
) -> None:
    await seed([{"id": "li", "team": "billing", "capacity": 2, "availability": "offline"}])
    ids = [await new_case() for _ in range(3)]
    assert [(await case_of(database, i)).assignee for i in ids] == [None, None, None]

    agent = await staffing.set_availability(
        database=database, agent_id="li", principal=staff("li"), availability="online"
    )
    assert agent.open_load == 2
    assert [(await case_of(database, i)).assignee for i in ids] == ["li", "li", None]

    await put_agent(database, "li", capacity=3)
    assert (await case_of(database, ids[2])).assignee == "li"
    assert await load_of(database, "li") == 3


async def test_only_the_agent_their_lead_or_a_manager_set_availability(
    database: Database, seed: Any
) -> None:
    await seed([{"id": "li", "team": "billing"}])
    for who in (staff("wang"), staff("lead-q", "lead", team="quality")):
        with pytest.raises(DomainError) as denied:
            await staffing.set_availability(
                database=database, agent_id="li", principal=who, availability="offline"
            )
        assert status_of(denied.value) == 403
    for who in (staff("lead-z", "lead"), MANAGER, staff("li")):
        agent = await staffing.set_availability(
            database=database, agent_id="li", principal=who, availability="offline"
        )
        assert agent.availability == "offline"
    with pytest.raises(DomainError) as missing:
        await staffing.set_availability(
            database=database, agent_id="nobody", principal=MANAGER, availability="online"
        )
    assert status_of(missing.value) == 404


async def test_escalated_cases_wait_for_a_senior(
    database: Database, new_case: Any, seed: Any
) -> None:
    await seed([{"id": "li", "team": "billing", "capacity": 0}])
    complaint_id = await new_case()
    async with database.unit_of_work() as uow:
        await uow.session.execute(
            update(Case).where(Case.complaint_id == complaint_id).values(escalation_level=1)
        )
    await put_agent(database, "junior", level="junior", capacity=5)
    assert (await case_of(database, complaint_id)).assignee is None
    await put_agent(database, "senior", level="senior", capacity=5)
    assert (await case_of(database, complaint_id)).assignee == "senior"


async def test_skills_and_languages_route_past_unqualified_agents(
    database: Database, new_case: Any, seed: Any
) -> None:
    await seed(
        [
            {"id": "en-only", "team": "billing", "languages": ["en"]},
            {"id": "other-only", "team": "billing", "categories": ["other"]},
        ]
    )
    complaint_id = await new_case()  # Chinese billing_refund
    assert (await case_of(database, complaint_id)).assignee is None
    await put_agent(database, "zh", languages=["zh-CN"], categories=["billing_refund"])
    assert (await case_of(database, complaint_id)).assignee == "zh"


# Distinct billing complaints of one customer (never near-identical: not duplicates).
BILLING_TEXTS = (
    "我10月28日申请的退款到现在还没到账，退款延迟太久了。",
    "发票金额开错了，多收了我的钱，要求退款",
    "同一笔订单被重复扣款两次，请退还一次的钱",
    "会员费自动续费扣款没有任何通知，要求退款",
)


async def vip_case(triage: Any, text: str, *, tier: str = "vip") -> Case:
    received = ComplaintReceived(
        complaint_id=str(uuid.uuid4()),
        reference="C-20261129-000002",
        channel="web",
        customer=CustomerView(customer_ref="ref-vip", tier=tier),
        subject="退款迟迟未到账",
        description=text,
        received_at=datetime.now(UTC),
    )
    case = await triage(received, "ev")
    assert case is not None
    return case


async def test_a_vip_goes_to_the_account_manager_while_they_have_room(
    database: Database, seed: Any, triage: Any
) -> None:
    await seed([{"id": "li", "team": "billing", "capacity": 5}])
    await staffing.put_team(
        database=database, team="key-accounts", name="Key accounts", categories=[], actor="a"
    )
    await put_agent(database, "mgr", team="key-accounts", capacity=1)
    await staffing.put_account_manager(
        database=database, customer_ref="ref-vip", agent_id="mgr", actor="admin-1"
    )
    texts = iter(BILLING_TEXTS)
    first = await vip_case(triage, next(texts))
    assert (first.assignee, first.team) == ("mgr", "billing")
    assert (await vip_case(triage, next(texts))).assignee == "li"  # the manager is full
    await put_agent(database, "mgr", team="key-accounts", capacity=5)
    assert (await vip_case(triage, next(texts), tier="gold")).assignee == "li"  # not a VIP
    await staffing.delete_account_manager(
        database=database, customer_ref="ref-vip", actor="admin-1"
    )
    assert (await vip_case(triage, next(texts))).assignee == "li"
    with pytest.raises(DomainError) as missing:
        await staffing.delete_account_manager(
            database=database, customer_ref="ref-vip", actor="admin-1"
        )
    assert status_of(missing.value) == 404


async def test_category_ownership_comes_from_the_teams_table(
    database: Database, new_case: Any, seed: Any
) -> None:
    await staffing.put_team(
        database=database, team="finance", name="Finance", categories=["billing_refund"], actor="a"
    )
    await seed([{"id": "fin", "team": "finance"}, {"id": "li", "team": "billing"}])
    case = await case_of(database, await new_case())
    assert (case.team, case.assignee) == ("finance", "fin")
    teams = {v.id: v.categories for v in await staffing.list_teams(database=database)}
    assert teams["finance"] == ["billing_refund"]


async def test_a_transfer_keeps_the_owner_moves_the_load_and_drains_the_freed_agent(
    database: Database, new_case: Any, seed: Any, outbox: Any
) -> None:
    await seed([{"id": "li", "team": "billing", "capacity": 1}])
    first, waiting = await new_case(), await new_case()
    await put_agent(database, "wang", capacity=1, availability="offline")
    with pytest.raises(DomainError) as offline:
        await cases.reassign(
            database=database,
            complaint_id=first,
            principal=staff("li"),
            reason="x",
            assignee="wang",
            roles=frozenset({"agent", "lead", "manager"}),
        )
    assert (status_of(offline.value), offline.value.kind) == (409, "agent-offline")
    await put_agent(database, "wang", capacity=1)  # online: takes the waiting case
    assert (await case_of(database, waiting)).assignee == "wang"
    with pytest.raises(DomainError) as full:
        await cases.reassign(
            database=database,
            complaint_id=first,
            principal=staff("lead-z", "lead"),
            reason="x",
            assignee="wang",
        )
    assert (status_of(full.value), full.value.kind) == (409, "agent-at-capacity")

    await put_agent(database, "wang", capacity=2)
    view = await cases.reassign(
        database=database,
        complaint_id=first,
        principal=staff("li"),
        reason="holiday",
        assignee="wang",
        roles=frozenset({"agent", "lead", "manager"}),
    )
    assert (view.case.assignee, view.case.owner) == ("wang", "li")  # 首问负责制
    assert (await load_of(database, "li"), await load_of(database, "wang")) == (0, 2)
    event = (await outbox(first))[-1].data
    assert isinstance(event, ComplaintAssigned)
    assert (event.handoff, event.previous_assignee, event.owner) == (True, "li", "li")
    assert view.actions[-1].action == "reassigned"


async def test_a_transfer_to_a_team_with_nobody_free_queues_it_there(
    database: Database, new_case: Any, seed: Any
) -> None:
    await seed([{"id": "li", "team": "billing"}, {"id": "q", "team": "quality", "capacity": 0}])
    complaint_id = await new_case()
    view = await cases.reassign(
        database=database,
        complaint_id=complaint_id,
        principal=MANAGER,
        reason="wrong team",
        team="quality",
    )
    assert (view.case.team, view.case.assignee, view.case.owner) == ("quality", None, "li")
    assert view.case.queued_at is not None
    assert await load_of(database, "li") == 0
    queue = await staffing.team_queue(
        database=database, team="quality", principal=staff("lead-q", "lead", team="quality")
    )
    assert [e.complaint_id for e in queue] == [complaint_id]
    with pytest.raises(DomainError) as other_team:
        await staffing.team_queue(
            database=database, team="quality", principal=staff("lead-z", "lead")
        )
    assert status_of(other_team.value) == 403


async def test_an_agent_transfers_only_their_own_case(
    database: Database, new_case: Any, seed: Any
) -> None:
    await seed([{"id": "li", "team": "billing"}, {"id": "wang", "team": "billing"}])
    complaint_id = await new_case()
    with pytest.raises(DomainError) as denied:
        await cases.reassign(
            database=database,
            complaint_id=complaint_id,
            principal=staff("wang"),
            reason="mine",
            assignee="wang",
            roles=frozenset({"agent", "lead", "manager"}),
        )
    assert status_of(denied.value) == 403


async def test_reconcile_recounts_loads_from_the_cases(
    database: Database, new_case: Any, seed: Any
) -> None:
    await seed([{"id": "li", "team": "billing", "capacity": 5}])
    await new_case()
    await new_case()
    async with database.unit_of_work() as uow:
        await uow.session.execute(update(Agent).values(open_load=7))
    assert await staffing.reconcile_loads(database=database, actor="admin-1") == [("li", 7, 2)]
    assert await load_of(database, "li") == 2
    assert await staffing.reconcile_loads(database=database, actor="admin-1") == []


async def test_reseeding_keeps_what_the_admin_api_set(database: Database, seed: Any) -> None:
    await seed([{"id": "li", "team": "billing", "languages": ["en"]}])
    await staffing.set_availability(
        database=database, agent_id="li", principal=MANAGER, availability="offline"
    )
    await seed([{"id": "li", "team": "billing", "capacity": 3}])
    agent = await staffing.get_agent(database=database, agent_id="li")
    assert (agent.availability, agent.languages, agent.capacity) == ("offline", ["en"], 3)
