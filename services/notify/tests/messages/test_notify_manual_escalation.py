"""An escalation by hand (``complaint.escalated`` with trigger ``manual``, a lead or manager
as actor, no clock): the person at the new level is told like on a breach, in their language,
with the trigger named as such and the requester's reason."""

from __future__ import annotations

import pytest
from complaint_contracts import topics
from complaint_contracts.events import ComplaintEscalated
from complaint_contracts.examples import COMPLAINT_ID
from notify.messages.domain.labels import ESCALATION_TRIGGERS, label
from notify.messages.domain.planning import plan_deliveries

from .conftest import GROUP, Harness

REASON = "customer threatens to go to the regulator"


def by_hand(level: int, previous_level: int, actor: str = "lead-wang") -> ComplaintEscalated:
    return ComplaintEscalated(
        complaint_id=COMPLAINT_ID,
        level=level,  # type: ignore[arg-type]
        previous_level=previous_level,  # type: ignore[arg-type]
        trigger="manual",
        reason=REASON,
        actor=actor,
    )


def test_the_manual_trigger_has_a_label_in_every_language() -> None:
    assert label(ESCALATION_TRIGGERS, language="zh-CN", code="manual") == "人工升级"
    assert label(ESCALATION_TRIGGERS, language="en", code="manual") == "manual escalation"
    assert all("manual" in labels for labels in ESCALATION_TRIGGERS.values())


@pytest.mark.parametrize(
    ("level", "role", "count"), [(1, "team_lead", 1), (2, "manager", 1), (3, "senior_group", 3)]
)
def test_the_person_at_the_requested_level_is_planned_with_the_reason(
    level: int, role: str, count: int
) -> None:
    planned = plan_deliveries(by_hand(level, 0), escalation_group=GROUP)
    assert len(planned) == count
    for delivery in planned:
        assert (delivery.template, delivery.recipient_role) == ("escalation", role)
        assert delivery.context["trigger"] == "manual"
        assert delivery.context["reason"] == REASON
        assert delivery.context["metric"] is None


async def test_level_two_by_hand_mails_the_manager_in_chinese(harness: Harness) -> None:
    await harness.learn()  # reference C-20261123-000042, team billing, priority P1
    await harness.consume(by_hand(2, 0), topics.SLA)
    await harness.loop().run_once()

    [message] = harness.sink.to("sun.li@corp.example")
    assert message["Subject"] == "[投诉升级至经理] 投诉 C-20261123-000042（P1）"
    body = message.get_content()
    assert "触发原因：人工升级" in body
    assert f"说明：{REASON}" in body
    [row] = await harness.rows()
    assert (row.status, row.recipient_role, row.recipient_user) == ("sent", "manager", "mgr-sun")


async def test_level_one_by_hand_mails_the_team_lead_in_english(harness: Harness) -> None:
    await harness.learn()
    await harness.consume(by_hand(1, 0, actor="mgr-sun"), topics.SLA)
    await harness.loop().run_once()

    [message] = harness.sink.to("wang.lei@corp.example")
    body = message.get_content()
    assert "Trigger: manual escalation" in body
    assert f"Reason: {REASON}" in body
