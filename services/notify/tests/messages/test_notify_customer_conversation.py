"""What the agent tells and asks the customer reaches their mailbox (§3, §8): the first
response and later replies with their text, the question asked while waiting for the
customer, each signed with the name the event carries (the agent's display name or the
team's), else a neutral label: never the user id. A first response without text (a phone
call logged) sends nothing. Once per event, through the delivery loop and a real SMTP
server, the customer's contacts fetched just in time."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from complaint_contracts import topics
from complaint_contracts.events import (
    ComplaintAgentReplied,
    ComplaintAwaitingCustomer,
    ComplaintFirstResponseSent,
    NotificationSent,
)
from complaint_contracts.examples import COMPLAINT_ID
from complaint_contracts.privacy import find_contacts
from notify.messages.domain.planning import plan_deliveries
from notify.messages.domain.template_context import LookedUp, message_context
from notify.messages.rendering import Renderer

from .conftest import CUSTOMER_EMAIL, Harness

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def first_response(
    message: str | None, agent_name: str | None = "李娜"
) -> ComplaintFirstResponseSent:
    return ComplaintFirstResponseSent(
        complaint_id=COMPLAINT_ID,
        actor="agent-li",
        responded_at=AT,
        message=message,
        agent_name=agent_name,
    )


def reply(message: str | None, agent_name: str | None = "李娜") -> ComplaintAgentReplied:
    return ComplaintAgentReplied(
        complaint_id=COMPLAINT_ID,
        actor="agent-li",
        replied_at=AT,
        message=message,
        agent_name=agent_name,
    )


def question(reason: str, agent_name: str | None = None) -> ComplaintAwaitingCustomer:
    return ComplaintAwaitingCustomer(
        complaint_id=COMPLAINT_ID,
        actor="agent-li",
        reason=reason,
        since=AT,
        agent_name=agent_name,
    )


# -- planning


def test_a_first_response_or_reply_with_text_is_sent_to_the_customer() -> None:
    [first] = plan_deliveries(first_response("退款已提交，请留意到账。"))
    [later] = plan_deliveries(reply("The money arrives tomorrow."))
    assert (first.template, first.recipient_role, first.recipient_user) == (
        "agent_reply",
        "customer",
        None,
    )
    assert first.context == {
        "message": "退款已提交，请留意到账。",
        "agent_name": "李娜",
        "first": True,
        "at": AT.isoformat(),
    }
    assert (later.template, later.context["first"]) == ("agent_reply", False)
    for planned in (first, later):
        assert "agent-li" not in json.dumps(planned.context, ensure_ascii=False)


def test_an_answer_without_text_sends_nothing() -> None:
    assert plan_deliveries(first_response(None)) == ()
    assert plan_deliveries(reply(None)) == ()


def test_a_question_is_sent_to_the_customer() -> None:
    [asked] = plan_deliveries(question("请提供退款单号。"))
    assert (asked.template, asked.recipient_role) == ("agent_question", "customer")
    assert asked.context == {
        "question": "请提供退款单号。",
        "agent_name": None,
        "at": AT.isoformat(),
    }
    assert plan_deliveries(question("")) == ()  # nothing was asked: nothing to send
    assert not find_contacts(json.dumps(asked.context, ensure_ascii=False))


# -- rendering


def _render(template: str, stored: dict[str, object], language: str) -> tuple[str, str]:
    context = message_context(
        template=template,
        stored=stored,
        looked_up=LookedUp(
            reference="C-20261123-000042",
            recipient_name=None,
            language=language,
            tracking_url="https://track.example.com/c/abc",
        ),
        zone="Asia/Shanghai",
    )
    message = Renderer().render(template=template, language=language, context=context)
    return message.subject, message.body


@pytest.mark.parametrize(("language", "neutral"), [("en", "Customer Service"), ("zh-CN", "客服")])
def test_without_a_name_a_neutral_label_signs(language: str, neutral: str) -> None:
    [planned] = plan_deliveries(reply("Still on it.", agent_name=None))
    _, body = _render("agent_reply", planned.context, language)
    assert f"Still on it.\n\n{neutral}\n" in body
    assert "agent-li" not in body


def test_the_first_answer_and_later_replies_read_differently() -> None:
    [first] = plan_deliveries(first_response("Refund re-issued."))
    [later] = plan_deliveries(reply("It went out today."))
    first_subject, first_body = _render("agent_reply", first.context, "en")
    later_subject, later_body = _render("agent_reply", later.context, "en")
    assert first_subject == "Our answer to your complaint C-20261123-000042"
    assert later_subject == "A reply about your complaint C-20261123-000042"
    assert "Refund re-issued.\n\n李娜\n2026-11-23 18:00 (Asia/Shanghai)" in first_body
    assert "https://track.example.com/c/abc" in later_body
    zh_subject, _ = _render("agent_reply", first.context, "zh-CN")
    assert zh_subject == "关于您的投诉 C-20261123-000042 的答复"


# -- through the delivery loop and SMTP


async def test_answers_and_the_question_reach_the_customers_mailbox_once(
    harness: Harness,
) -> None:
    await harness.consume(first_response(None), topics.ROUTING)  # a phone call: nothing
    await harness.consume(first_response("退款已重新提交。"), topics.ROUTING)
    envelope = await harness.consume(question("请提供退款单号。", "退款服务组"), topics.ROUTING)
    async with harness.database.unit_of_work() as uow:  # redelivered past processed_events
        await harness.handlers[ComplaintAwaitingCustomer](uow, envelope)
    await harness.consume(reply("已到账，请查收。", agent_name=None), topics.ROUTING)
    loop = harness.loop()
    await loop.run_once()
    await loop.run_once()

    mails = harness.sink.to(CUSTOMER_EMAIL)
    assert sorted(m["Subject"] for m in mails) == [
        "A reply about your complaint C-20261123-000042",
        "Our answer to your complaint C-20261123-000042",
        "We need information about your complaint C-20261123-000042",
    ]
    bodies = {m["Subject"].split(" ")[0]: m.get_content() for m in mails}
    assert "退款已重新提交。\n\n李娜\n" in bodies["Our"]
    assert "请提供退款单号。\n\n退款服务组\n" in bodies["We"]
    assert "已到账，请查收。\n\nCustomer Service\n" in bodies["A"]  # the customer reads en
    for body in bodies.values():
        assert "Dear 张伟," in body
        assert "agent-li" not in body
        assert "https://track.example.com/c/dup" in body
    rows = await harness.rows()
    assert sorted((r.template, r.status) for r in rows) == [
        ("agent_question", "sent"),
        ("agent_reply", "sent"),
        ("agent_reply", "sent"),
    ]
    assert {r.recipient_masked for r in rows} == {"z***@example.com"}
    sent = [e for e in await harness.events() if isinstance(e, NotificationSent)]
    assert len(sent) == 3
