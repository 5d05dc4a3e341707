"""A consumer's batch is projected with one read of its complaints: after
:func:`preload_complaints`, folding the events in reads no complaint row again, and the
outcome is the same as event by event."""

from __future__ import annotations

from typing import Any

from complaint_contracts.events import ComplaintAssigned, ComplaintTriaged
from complaint_contracts.examples import example_for
from intake.projection import service as projection
from sqlalchemy import event

from .conftest import Intake, envelope_for, post, row


async def test_a_batch_reads_its_complaints_once(intake: Intake) -> None:
    ids = [(await post(intake, subject=f"退款 {n}"))["id"] for n in range(3)]
    batch = [
        envelope_for(example_for(model).model_copy(update={"complaint_id": cid}), source="routing")
        for cid in ids
        for model in (ComplaintTriaged, ComplaintAssigned)
    ]
    selects: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM complaints" in statement:
            selects.append(statement)

    engine = intake.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        async with intake.database.unit_of_work() as uow:
            await projection.preload_complaints(uow=uow, envelopes=batch)
            assert len(selects) == 1
            for envelope in batch:
                await projection.project_event(uow=uow, envelope=envelope)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(selects) == 1  # folding the six events read no complaint again
    for cid in ids:
        stored = await row(intake, cid)
        assert (stored.status, stored.team) == ("assigned", example_for(ComplaintAssigned).team)
