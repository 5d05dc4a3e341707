"""The contact card notify fetches just in time carries the times promised to the customer
(the running clocks' due times, as sla-watch reported them), the zone to show them in and
whether the clocks are still to come, so the acknowledgement states real deadlines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from complaint_contracts.events import (
    ComplaintClosed,
    ComplaintDuplicateLinked,
    SlaClockPaused,
    SlaClockStarted,
    SlaClockStopped,
)
from intake.complaints import service as complaints
from intake.projection.domain.promises import Promise, clocks_expected, running_due

from .conftest import Intake, post, project

DUE = datetime(2026, 12, 7, 6, 30, tzinfo=UTC)  # 14:30 in Shanghai
OTHER = "0195a011-2b3c-7d4e-8f50-61728394a5b6"


def _started(complaint_id: str, metric: str, due: datetime) -> SlaClockStarted:
    return SlaClockStarted(
        complaint_id=complaint_id,
        clock_id=f"clock-{metric}",
        metric=metric,
        target_seconds=7200,
        started_at=due - timedelta(hours=2),
        due_at=due,
        calendar_id="24x7",
        policy_id="default-P1",
        priority="P1",
    )


async def _card(intake: Intake, complaint_id: str) -> complaints.ContactDetails:
    return await complaints.contact_card(
        database=intake.database,
        secrets_=intake.deps.secrets,
        complaint_id=complaint_id,
        public_base_url="http://intake",
        organisation_timezone="Asia/Shanghai",
    )


async def test_before_the_clocks_the_card_says_they_are_expected(intake: Intake) -> None:
    accepted = await post(intake)
    card = await _card(intake, accepted["id"])
    assert (card.first_response_due_at, card.resolution_due_at) == (None, None)
    assert card.clocks_expected is True
    assert card.timezone == "Asia/Shanghai"
    assert card.received_at.isoformat() == accepted["received_at"]


async def test_the_running_clocks_due_times_are_on_the_card(intake: Intake) -> None:
    accepted = await post(intake)
    await project(intake, _started(accepted["id"], "first_response", DUE), source="sla-watch")
    resolution_due = DUE + timedelta(hours=22)
    await project(
        intake, _started(accepted["id"], "resolution", resolution_due), source="sla-watch"
    )
    card = await _card(intake, accepted["id"])
    assert card.first_response_due_at == DUE
    assert card.resolution_due_at == resolution_due
    assert card.clocks_expected is False


async def test_a_paused_or_stopped_clock_promises_nothing(intake: Intake) -> None:
    accepted = await post(intake)
    complaint_id = accepted["id"]
    await project(intake, _started(complaint_id, "first_response", DUE), source="sla-watch")
    await project(intake, _started(complaint_id, "resolution", DUE), source="sla-watch")
    await project(
        intake,
        SlaClockStopped(
            complaint_id=complaint_id,
            clock_id="clock-first_response",
            metric="first_response",
            stopped_at=DUE - timedelta(hours=1),
            outcome="met",
            elapsed_seconds=3600,
        ),
        source="sla-watch",
    )
    await project(
        intake,
        SlaClockPaused(
            complaint_id=complaint_id,
            clock_id="clock-resolution",
            metric="resolution",
            paused_at=DUE - timedelta(minutes=30),
            elapsed_seconds=5400,
        ),
        source="sla-watch",
    )
    card = await _card(intake, complaint_id)
    assert (card.first_response_due_at, card.resolution_due_at) == (None, None)
    assert card.clocks_expected is False  # they came, and went


async def test_a_duplicate_or_a_closed_complaint_expects_no_clocks(intake: Intake) -> None:
    duplicate = await post(intake, subject="又是退款")
    await project(
        intake,
        ComplaintDuplicateLinked(
            complaint_id=duplicate["id"],
            duplicate_of=OTHER,
            matched_on=("same_order_ref",),
            similarity=1.0,
            actor="routing",
        ),
        source="routing",
    )
    assert (await _card(intake, duplicate["id"])).clocks_expected is False
    closed = await post(intake, subject="撤回")
    await project(
        intake,
        ComplaintClosed(
            complaint_id=closed["id"],
            reason="withdrawn",
            closed_at=datetime.now(UTC),
            actor="routing",
        ),
        source="routing",
    )
    assert (await _card(intake, closed["id"])).clocks_expected is False


def test_the_card_rules_on_their_own() -> None:
    running = {"first_response": Promise("first_response", "running", DUE)}
    assert running_due(running, "first_response") == DUE
    assert running_due(running, "resolution") is None
    paused = {"first_response": Promise("first_response", "paused", DUE)}
    assert running_due(paused, "first_response") is None
    assert clocks_expected({}, status="received", duplicate_of=None) is True
    assert clocks_expected({}, status="closed", duplicate_of=None) is False
    assert clocks_expected({}, status="received", duplicate_of=OTHER) is False
    assert clocks_expected(paused, status="received", duplicate_of=None) is False
