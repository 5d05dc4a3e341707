"""Escalations from sla-watch: the case's level, its history entry, the case API, the
migration, and how routing's consumer treats the other events of the sla topic."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from complaint_contracts import topics
from complaint_contracts.events import ComplaintEscalated, SlaBreached, SlaWarning
from complaint_contracts.examples import example_for
from complaint_runtime.consumer import EventConsumer
from complaint_runtime.database import Database, ProcessedEvent
from complaint_runtime.migrations import upgrade_to_head
from complaint_runtime.testing import FakeProducer, record_of
from routing import messaging
from routing.bootstrap import Dependencies
from routing.casefile.api import router
from routing.db import Case, CaseAction
from routing.main import MIGRATIONS
from sqlalchemy import inspect, select

from ..conftest import staff_auth


def escalated(
    complaint_id: str,
    *,
    level: int,
    previous_level: int,
    trigger: str = "resolution_breach",
    reason: str = "resolution clock breached",
) -> ComplaintEscalated:
    return ComplaintEscalated.model_validate(
        {
            "complaint_id": complaint_id,
            "level": level,
            "previous_level": previous_level,
            "trigger": trigger,
            "reason": reason,
            "clock_id": "clk-resolution-1",
            "metric": "resolution",
            "actor": "sla-watch",
        }
    )


async def case_and_actions(database: Database, complaint_id: str) -> tuple[Case, list[CaseAction]]:
    async with database.sessions() as session:
        case = await session.get(Case, complaint_id)
        assert case is not None
        actions = list(
            await session.scalars(
                select(CaseAction)
                .where(CaseAction.complaint_id == complaint_id)
                .order_by(CaseAction.id)
            )
        )
    return case, actions


async def test_an_escalation_sets_the_level_and_records_why(
    database: Database, new_case: Any, feed: Any, outbox: Any
) -> None:
    complaint_id = await new_case()
    case, _ = await case_and_actions(database, complaint_id)
    assert case.escalation_level == 0
    staged_before = len(await outbox(complaint_id))

    event_id = await feed(escalated(complaint_id, level=2, previous_level=0))

    case, actions = await case_and_actions(database, complaint_id)
    assert case.escalation_level == 2
    assert case.status == "assigned"  # orthogonal to the state (§3)
    last = actions[-1]
    assert (last.actor, last.action, last.from_status, last.to_status, last.event_id) == (
        "sla-watch",
        "escalated",
        "assigned",
        "assigned",
        event_id,
    )
    assert last.detail["trigger"] == "resolution_breach"
    assert last.detail["reason"] == "resolution clock breached"
    assert (last.detail["level"], last.detail["previous_level"]) == (2, 0)
    assert last.detail["metric"] == "resolution"
    # sla-watch's event is the record: routing stages nothing of its own.
    assert len(await outbox(complaint_id)) == staged_before


async def test_levels_follow_sla_watch_up_and_down(
    database: Database, new_case: Any, feed: Any
) -> None:
    complaint_id = await new_case()
    await feed(escalated(complaint_id, level=1, previous_level=0, trigger="first_response_breach"))
    await feed(escalated(complaint_id, level=3, previous_level=1, trigger="repeated_breach"))
    await feed(escalated(complaint_id, level=0, previous_level=3, trigger="de_escalation"))
    case, actions = await case_and_actions(database, complaint_id)
    assert case.escalation_level == 0
    assert [(a.action, a.detail["level"]) for a in actions if "escalated" in a.action] == [
        ("escalated", 1),
        ("escalated", 3),
        ("de_escalated", 0),
    ]


async def test_a_missed_escalation_is_visible_in_the_history(
    database: Database, new_case: Any, feed: Any
) -> None:
    complaint_id = await new_case()
    await feed(escalated(complaint_id, level=3, previous_level=2, trigger="p1_breach"))
    case, actions = await case_and_actions(database, complaint_id)
    assert case.escalation_level == 3
    assert (actions[-1].detail["previous_level"], actions[-1].detail["level_before"]) == (2, 0)


async def test_an_escalation_of_an_unknown_case_is_a_poison_record(feed: Any) -> None:
    with pytest.raises(LookupError):
        await feed(escalated(str(uuid.uuid4()), level=1, previous_level=0))


async def test_the_case_api_shows_the_escalation_level(
    api_client: Any, new_case: Any, feed: Any
) -> None:
    complaint_id = await new_case()
    await feed(escalated(complaint_id, level=2, previous_level=0))
    async with api_client(router) as client:
        response = await client.get(
            f"/v1/cases/{complaint_id}", headers=staff_auth("mgr-sun", "manager")
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["escalation_level"] == 2
    assert body["actions"][-1]["action"] == "escalated"
    assert body["actions"][-1]["detail"]["trigger"] == "resolution_breach"


# -- the consumer over the sla topic


@pytest.fixture
def consumer(deps: Dependencies) -> tuple[EventConsumer, FakeProducer]:
    producer = FakeProducer()
    return (
        EventConsumer(
            database=deps.database,
            bootstrap_servers="unused:9092",
            group_id="routing",
            topics=[topics.INTAKE.name, topics.FEEDBACK.name, topics.SLA.name],
            handlers=messaging.handlers(deps),
            dead_letter_topic=topics.dead_letter_topic("routing").name,
            producer=producer,  # type: ignore[arg-type]
        ),
        producer,
    )


async def test_every_sla_event_is_applied_none_dead_lettered(
    database: Database, new_case: Any, consumer: tuple[EventConsumer, FakeProducer]
) -> None:
    events_consumer, producer = consumer
    complaint_id = await new_case()
    clock_events = [
        example_for(SlaWarning).model_copy(update={"complaint_id": complaint_id}),
        example_for(SlaBreached).model_copy(update={"complaint_id": complaint_id}),
    ]
    records = [record_of(data, topics.SLA, subject=complaint_id) for data in clock_events]
    escalation = record_of(escalated(complaint_id, level=1, previous_level=0), topics.SLA)

    await events_consumer._process_batch([*records, escalation])  # type: ignore[list-item]

    assert producer.sent == []  # nothing dead-lettered
    async with database.sessions() as session:
        processed = list(await session.scalars(select(ProcessedEvent)))
    # The clock events feed the case file's clocks (routing.casefile), the escalation the
    # case's level: each applied once.
    assert [(p.consumer, p.outcome) for p in processed] == [("routing", "applied")] * 3
    case, _ = await case_and_actions(database, complaint_id)
    assert case.escalation_level == 1
    assert (case.sla_breached, case.sla_state) == (True, "breached")


async def test_the_migration_adds_escalation_level_defaulting_to_zero(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'migrated.db'}"
    await upgrade_to_head(MIGRATIONS, url)
    database = Database(url)
    try:
        async with database.engine.connect() as connection:
            columns = await connection.run_sync(
                lambda sync: {c["name"]: c for c in inspect(sync).get_columns("cases")}
            )
    finally:
        await database.dispose()
    column = columns["escalation_level"]
    assert column["nullable"] is False
    assert str(column["default"]).strip("'\"") == "0"
