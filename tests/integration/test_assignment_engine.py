"""The assignment engine (§5) through real Kafka and PostgreSQL, with two routing processes
in one consumer group on one database: many complaints at once to a team of two small
agents never push an agent past capacity, the rest wait in the team queue, the queue
drains longest-waiting first as agents free up, and a transfer keeps the owner.

The test gives ``process_policy`` to a team of its own through the admin API and gives it
back at the end, so the other tests see the platform as conftest built it.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from complaint_contracts.envelope import decode
from complaint_contracts.events import ComplaintAssigned
from complaint_contracts.topics import ROUTING
from harness import ServiceProcess, free_port, wait_for
from kafka_tools import read_all

from conftest import Platform

TEAM = "engine-q"
AGENTS = ("eq-a", "eq-b")
CAPACITY = 2
PARALLEL = 12
APPLIED = re.compile(  # labels in any order
    r"events_consumed_total\{"
    r'(?=[^}]*topic="complaints\.intake\.v1")(?=[^}]*outcome="applied")[^}]*\} (\S+)'
)
SOLUTION = {"solution_summary": "rule explained", "solution_type": "explanation", "root_cause": "x"}


def _applied(process: ServiceProcess) -> float:
    """Intake events this routing process applied (its Prometheus counter)."""
    text = httpx.get(f"{process.url}/metrics", timeout=10).text
    return sum(float(m.group(1)) for m in APPLIED.finditer(text))


def _warm_up(platform: Platform, second: ServiceProcess) -> None:
    """Post complaints of another team until the second process has its partitions and
    has applied one: the group has rebalanced."""
    deadline = time.monotonic() + 60
    while _applied(second) == 0:
        assert time.monotonic() < deadline, "the second routing process never got partitions"
        body = _complaint(f"warm{uuid.uuid4().hex[:8]}")
        body["subject"], body["description"] = "退款迟迟未到账", "退款延迟太久了，还没到账。"
        with platform.client() as client:
            assert client.post("/v1/complaints", json=body).status_code == 201
        time.sleep(0.5)


def _complaint(n: str) -> dict[str, Any]:
    return {
        "channel": "email",
        "customer": {
            "external_ref": f"engine-{n}",
            "name": "Engine Tester",
            "email": f"engine-{n}@example.com",
            "language": "zh-CN",
            "tier": "standard",
            "preferred_channel": "email",
        },
        "subject": "七天无理由退货被拒",
        "description": "商品没拆封，第五天申请七天无理由退货，客服说促销商品不参与，"
        "但下单页面根本没写这个规定。",
        "order_ref": f"ORD-20261128-{n}",
    }


def _client(platform: Platform, subject: str, roles: list[str], team: str | None = None) -> Any:
    token = platform.token(subject, roles, team, audience="routing")
    return httpx.Client(
        base_url=platform.routing.url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


@pytest.fixture
def second_routing(platform: Platform, tmp_path: Any) -> Iterator[ServiceProcess]:
    """A second routing process: same database, same consumer group."""
    process = ServiceProcess(
        "routing-2", platform.routing.factory, dict(platform.routing.env), tmp_path, free_port()
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def engine_team(platform: Platform) -> Iterator[None]:
    with _client(platform, "root", ["admin"]) as admin:
        team = {"name": "Engine test", "categories": ["process_policy"]}
        assert admin.put(f"/v1/admin/teams/{TEAM}", json=team).status_code == 200
        for agent_id in AGENTS:
            body = {"team": TEAM, "level": "senior", "capacity": CAPACITY}
            response = admin.put(f"/v1/admin/agents/{agent_id}", json=body)
            assert response.status_code == 200, response.text
        try:
            yield
        finally:
            back = {"name": "policy", "categories": ["process_policy"]}
            assert admin.put("/v1/admin/teams/policy", json=back).status_code == 200


def _post(platform: Platform, n: str) -> str:
    with platform.client() as client:
        response = client.post("/v1/complaints", json=_complaint(n))
    assert response.status_code == 201, response.text
    complaint_id: str = response.json()["id"]
    return complaint_id


def _case(manager: httpx.Client, complaint_id: str) -> dict[str, Any] | None:
    response = manager.get(f"/v1/cases/{complaint_id}")
    return response.json() if response.status_code == 200 else None


def _loads(manager: httpx.Client) -> dict[str, int]:
    agents = manager.get("/v1/admin/agents", params={"team": TEAM}).json()
    return {a["id"]: a["open_load"] for a in agents}


def _queue(lead: httpx.Client) -> list[str]:
    response = lead.get(f"/v1/teams/{TEAM}/queue")
    assert response.status_code == 200, response.text
    return [c["complaint_id"] for c in response.json()["cases"]]


def _resolve(platform: Platform, agent_id: str, complaint_id: str) -> None:
    with _client(platform, agent_id, ["agent"], TEAM) as agent:
        first = agent.post(f"/v1/cases/{complaint_id}/first-response", json={"message": "hi"})
        assert first.status_code == 200, first.text
        resolved = agent.post(f"/v1/cases/{complaint_id}/resolve", json=SOLUTION)
        assert resolved.status_code == 200, resolved.text


def test_parallel_complaints_never_exceed_capacity_and_the_queue_drains_in_order(
    platform: Platform, second_routing: ServiceProcess, engine_team: None
) -> None:
    manager = _client(platform, "mgr-engine", ["manager"])
    lead = _client(platform, "lead-engine", ["lead"], TEAM)
    run = uuid.uuid4().hex[:6]
    _warm_up(platform, second_routing)
    before = (_applied(platform.routing), _applied(second_routing))
    # 1. Many complaints at once, consumed by two routing processes.
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        ids = list(pool.map(lambda i: _post(platform, f"{run}{i:02d}"), range(PARALLEL)))
    observed: list[dict[str, int]] = []

    def all_routed() -> list[dict[str, Any]] | None:
        observed.append(_loads(manager))
        cases = [_case(manager, i) for i in ids]
        if all(c is not None and c["status"] == "assigned" for c in cases):
            return [c for c in cases if c is not None]
        return None

    cases = wait_for(all_routed, timeout_s=60, interval_s=0.05, what="every complaint routed")
    observed.append(_loads(manager))
    after = (_applied(platform.routing), _applied(second_routing))
    # Both consumed.
    assert after[0] > before[0], (before, after)
    assert after[1] > before[1], (before, after)
    assert all(load <= CAPACITY for loads in observed for load in loads.values()), observed
    assert {c["team"] for c in cases} == {TEAM}
    held: dict[str, list[str]] = {}
    for c in cases:
        if c["assignee"] is not None:
            assert c["owner"] == c["assignee"]
            held.setdefault(c["assignee"], []).append(c["complaint_id"])
    assert {a: len(h) for a, h in held.items()} == dict.fromkeys(AGENTS, CAPACITY)
    queued = _queue(lead)
    assert sorted(queued) == sorted(c["complaint_id"] for c in cases if c["assignee"] is None)
    assert len(queued) == PARALLEL - CAPACITY * len(AGENTS)
    # The assigned events on Kafka agree: no agent was ever given more than its capacity.
    given: dict[str, set[str]] = {}
    for record in read_all(platform.bootstrap_servers, ROUTING.name):
        envelope = decode(record.key, record.value, list(record.headers))
        data = envelope.data
        if isinstance(data, ComplaintAssigned) and data.complaint_id in ids and data.assignee:
            given.setdefault(data.assignee, set()).add(data.complaint_id)
    assert all(len(given[a]) <= CAPACITY for a in given), given

    # 2. Two more complaints one after the other: they queue behind, in posting order.
    later = []
    for i in range(2):
        later.append(_post(platform, f"{run}L{i}"))
        wait_for(lambda: later[-1] in _queue(lead), timeout_s=30, what="the later one queued")
    expected_order = queued + later
    assert _queue(lead) == expected_order

    # 3. Agents free up one case at a time: the longest-waiting queued case goes to them.
    drained = []
    for step in range(len(expected_order)):
        agent_id = AGENTS[step % 2]
        resolving = held[agent_id].pop(0)
        head = _queue(lead)[0]
        _resolve(platform, agent_id, resolving)
        taken = _case(manager, head)
        assert taken is not None
        assert taken["assignee"] == agent_id, taken
        assert taken["owner"] == agent_id
        drained.append(head)
        held[agent_id].append(head)
        assert all(load <= CAPACITY for load in _loads(manager).values())
    assert drained == expected_order
    assert _queue(lead) == []

    # 4. A transfer to another team keeps the first-contact owner and is a hand-off; the
    # freed agent's load goes down (nothing left to drain).
    moving = held["eq-a"][0]
    response = lead.post(
        f"/v1/cases/{moving}/transfer", json={"team": "general", "reason": "belongs to general"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["team"], body["assignee"], body["owner"]) == ("general", "agent-general", "eq-a")
    assert body["actions"][-1]["action"] == "reassigned"
    assert _loads(manager)["eq-a"] == CAPACITY - 1

    def handoff_in_intake() -> list[dict[str, Any]] | None:
        with platform.client() as client:
            view = client.get(f"/v1/complaints/{moving}").json()
        return view if view.get("assignee") == "agent-general" else None

    wait_for(handoff_in_intake, timeout_s=30, what="intake to show the transfer")
    # The counters the claims and releases kept match a recount from the cases.
    with _client(platform, "root", ["admin"]) as admin:
        reconcile = admin.post("/v1/admin/agents/reconcile-loads")
    assert reconcile.status_code == 200, reconcile.text
    assert reconcile.json()["corrected"] == [], reconcile.text
