"""The customer withdrew their complaint (§3): routing's ``complaint.closed`` with reason
``withdrawn`` tells the assignee (the one notify recorded from the complaint's last
``complaint.assigned``, looked up when sending: the closure does not name them) and
confirms the withdrawal to the customer, in their language; no other closure tells anyone.
Planning, rendering, and the delivery loop against a real SMTP server with intake's
internal API faked."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from complaint_contracts import topics
from complaint_contracts.events import ComplaintClosed, NotificationSent
from complaint_contracts.examples import COMPLAINT_ID
from notify.messages.domain.directory import parse_directory
from notify.messages.domain.planning import plan_deliveries
from notify.messages.domain.template_context import LookedUp, message_context
from notify.messages.rendering import Renderer

from . import conftest
from .conftest import CUSTOMER_EMAIL, DIRECTORY_JSON, Harness

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
AGENT_EMAIL = "li.na@corp.example"


def closed(reason: str) -> ComplaintClosed:
    return ComplaintClosed(
        complaint_id=COMPLAINT_ID,
        reason=reason,  # type: ignore[arg-type]
        evidence_event_id="ev-feedback" if reason in ("confirmed", "auto_closed") else None,
        actor="customer" if reason == "withdrawn" else "routing",
        closed_at=AT,
    )


@pytest.fixture
def with_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    """The harness's directory, with the assignee the harness records (agent-li)."""
    users = {**DIRECTORY_JSON["users"], "agent-li": {"email": AGENT_EMAIL, "name": "李娜"}}
    directory = parse_directory(json.dumps({**DIRECTORY_JSON, "users": users}))
    monkeypatch.setattr(conftest, "DIRECTORY", directory)


# -- planning


def test_a_withdrawal_tells_the_assignee_and_confirms_to_the_customer() -> None:
    notice, confirmation = plan_deliveries(closed("withdrawn"))
    assert (notice.template, notice.recipient_role, notice.recipient_user) == (
        "withdrawal_notice",
        "agent",
        None,
    )
    assert (confirmation.template, confirmation.recipient_role) == (
        "withdrawal_confirmation",
        "customer",
    )
    assert notice.context == confirmation.context == {"closed_at": AT.isoformat()}


@pytest.mark.parametrize("reason", ["confirmed", "auto_closed", "duplicate"])
def test_no_other_closure_tells_anyone(reason: str) -> None:
    assert plan_deliveries(closed(reason)) == ()


# -- rendering


def _render(template: str, language: str) -> tuple[str, str]:
    context = message_context(
        template=template,
        stored={"closed_at": AT.isoformat()},
        looked_up=LookedUp(
            reference="C-20261123-000042",
            recipient_name=None if template == "withdrawal_confirmation" else "李娜",
            language=language,
            team="billing",
            case_url="https://staff.example.com/cases/c-1",
        ),
        zone="Asia/Shanghai",
    )
    message = Renderer().render(template=template, language=language, context=context)
    return message.subject, message.body


def test_the_customer_s_confirmation_in_both_languages() -> None:
    subject, body = _render("withdrawal_confirmation", "en")
    assert subject == "Your complaint C-20261123-000042 has been withdrawn"
    assert body.startswith("Dear customer,")
    assert "withdrawn on 2026-11-23 18:00 (Asia/Shanghai) and is now closed" in body
    zh_subject, zh_body = _render("withdrawal_confirmation", "zh-CN")
    assert zh_subject == "您的投诉 C-20261123-000042 已撤回"
    assert "已于 2026-11-23 18:00 (Asia/Shanghai) 撤回并关闭" in zh_body


def test_the_assignee_s_notice_names_the_case_and_its_link() -> None:
    subject, body = _render("withdrawal_notice", "en")
    assert subject == "Complaint C-20261123-000042 withdrawn by the customer"
    assert "(team: billing)" in body
    assert "no further work" in body
    assert "Open the case: https://staff.example.com/cases/c-1" in body
    zh_subject, _ = _render("withdrawal_notice", "zh-CN")
    assert zh_subject == "客户已撤回投诉：C-20261123-000042"


# -- through the delivery loop and SMTP


@pytest.mark.usefixtures("with_agent")
async def test_both_mails_go_out_once(harness: Harness) -> None:
    await harness.learn()  # assigned to agent-li of billing; reference C-20261123-000042
    envelope = await harness.consume(closed("withdrawn"), topics.ROUTING)
    async with harness.database.unit_of_work() as uow:  # redelivered past processed_events
        await harness.handlers[ComplaintClosed](uow, envelope)
    await harness.consume(closed("confirmed"), topics.ROUTING)  # tells nobody
    loop = harness.loop()
    await loop.run_once()
    await loop.run_once()

    [confirmation] = harness.sink.to(CUSTOMER_EMAIL)
    assert confirmation["Subject"] == "Your complaint C-20261123-000042 has been withdrawn"
    assert "Dear 张伟," in confirmation.get_content()  # intake's fake: an English reader
    [notice] = harness.sink.to(AGENT_EMAIL)
    assert notice["Subject"] == "客户已撤回投诉：C-20261123-000042"  # the directory's default
    assert "https://staff.example.com/cases/" in notice.get_content()
    rows = {row.template: row for row in await harness.rows()}
    assert set(rows) == {"withdrawal_notice", "withdrawal_confirmation"}
    assert rows["withdrawal_notice"].recipient_user == "agent-li"
    assert {row.status for row in rows.values()} == {"sent"}
    sent = [e for e in await harness.events() if isinstance(e, NotificationSent)]
    assert len(sent) == 2


@pytest.mark.usefixtures("with_agent")
async def test_without_an_assignee_only_the_customer_is_told(harness: Harness) -> None:
    # Assigned to the team's queue, to nobody yet: intake's contact still names agent-li,
    # but the assignee comes from notify's own record of the assignment.
    assert harness.intake.contact(COMPLAINT_ID, "C-20261123-000042", "t")["assignee"]
    await harness.learn(assignee=None)
    await harness.consume(closed("withdrawn"), topics.ROUTING)
    await harness.loop().run_once()
    assert [m["Subject"] for m in harness.sink.messages] == [
        "Your complaint C-20261123-000042 has been withdrawn"
    ]
    rows = {row.template: row for row in await harness.rows()}
    assert rows["withdrawal_notice"].status == "skipped"
    assert "no assignee" in (rows["withdrawal_notice"].last_error or "")
