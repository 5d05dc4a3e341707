"""Escalation notices (level 1 team lead, 2 manager, 3 every member of the senior group) and
the duplicate notice to the customer: planning, the directory, and the delivery loop against
a real SMTP server (aiosmtpd) with intake's internal API faked. The escalation notices show
what notify recorded of the complaint from its events (reference, team, priority) and ask
intake nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from complaint_contracts import topics
from complaint_contracts.events import (
    ComplaintAssigned,
    ComplaintDuplicateLinked,
    ComplaintEscalated,
    ComplaintReceived,
    ComplaintTriaged,
    NotificationFailed,
    NotificationSent,
)
from complaint_contracts.examples import COMPLAINT_ID, example_for
from complaint_contracts.privacy import find_contacts
from hypothesis import given
from hypothesis import strategies as st
from notify.messages.domain.directory import (
    InvalidDirectory,
    NoRecipient,
    StaffDirectory,
    parse_directory,
    staff_recipient,
)
from notify.messages.domain.planning import ESCALATION_RECIPIENTS, plan_deliveries

from .conftest import CUSTOMER_EMAIL, DIRECTORY, DIRECTORY_JSON, GROUP, ORIGINAL_ID, Harness


def escalated(level: int, previous_level: int, **changes: Any) -> ComplaintEscalated:
    values: dict[str, Any] = {
        "complaint_id": COMPLAINT_ID,
        "level": level,
        "previous_level": previous_level,
        "trigger": {1: "first_response_breach", 2: "resolution_breach"}.get(level, "p1_breach"),
        "reason": "clock breached",
        "clock_id": "clk-1",
        "metric": "resolution",
        "actor": "sla-watch",
    } | changes
    return ComplaintEscalated.model_validate(values)


def linked() -> ComplaintDuplicateLinked:
    return ComplaintDuplicateLinked(
        complaint_id=COMPLAINT_ID,
        duplicate_of=ORIGINAL_ID,
        matched_on=("same_email", "similar_text"),
        similarity=0.91,
        actor="routing",
    )


# -- planning


@pytest.mark.parametrize(("level", "role"), [(1, "team_lead"), (2, "manager")])
def test_levels_one_and_two_tell_one_person(level: int, role: str) -> None:
    [planned] = plan_deliveries(escalated(level, level - 1), escalation_group=GROUP)
    assert (planned.template, planned.recipient_role, planned.recipient_user) == (
        "escalation",
        role,
        None,  # found from the complaint's team when sending
    )
    assert planned.slot == ""
    assert planned.context["trigger"] == escalated(level, 0).trigger
    assert planned.context["reason"] == "clock breached"
    json.dumps(planned.context)


def test_level_three_tells_every_member_of_the_group_once() -> None:
    planned = plan_deliveries(escalated(3, 1), escalation_group=GROUP)
    assert [(p.recipient_role, p.recipient_user, p.slot) for p in planned] == [
        ("senior_group", member, member) for member in GROUP
    ]


def test_level_three_without_a_group_records_the_gap() -> None:
    [planned] = plan_deliveries(escalated(3, 2))
    assert (planned.recipient_role, planned.recipient_user, planned.slot) == (
        "senior_group",
        None,
        "",
    )


@given(
    level=st.sampled_from([0, 1, 2, 3]),
    previous=st.sampled_from([0, 1, 2, 3]),
    group=st.lists(st.from_regex(r"[a-z]{1,8}", fullmatch=True), unique=True, max_size=5),
)
def test_only_a_rise_tells_someone_and_only_at_the_new_level(
    level: int, previous: int, group: list[str]
) -> None:
    if level == previous:
        return  # not an escalation: the contract refuses it
    planned = plan_deliveries(escalated(level, previous), escalation_group=group)
    if level < previous:
        assert planned == ()
        return
    assert {p.recipient_role for p in planned} == {ESCALATION_RECIPIENTS[level]}
    expected = max(len(group), 1) if level == 3 else 1
    assert len(planned) == expected
    # Distinct slots: the unique (event, template, role, slot) keeps each message once.
    assert len({p.slot for p in planned}) == len(planned)


def test_a_duplicate_tells_the_customer_with_the_standing_complaint_id_only() -> None:
    [planned] = plan_deliveries(linked())
    assert (planned.template, planned.recipient_role) == ("duplicate_notice", "customer")
    assert planned.context == {"duplicate_of": ORIGINAL_ID}
    assert not find_contacts(json.dumps(planned.context))


# -- the directory


def test_directory_parses_managers_and_the_escalation_group() -> None:
    assert DIRECTORY.manager_of("billing") == "mgr-sun"
    assert DIRECTORY.manager_of("logistics") is None
    assert DIRECTORY.manager_of(None) is None
    assert DIRECTORY.escalation_group == tuple(GROUP)


def test_an_older_directory_without_managers_or_group_still_parses() -> None:
    directory = parse_directory(json.dumps({"team_leads": {"billing": "lead-wang"}}))
    assert directory.team_lead_of("billing") == "lead-wang"
    assert (directory.managers, directory.escalation_group) == ({}, ())


@pytest.mark.parametrize(
    "changes",
    [
        {"escalation_group": ["a", "a"]},
        {"escalation_group": [" "]},
        {"escalation_group": "senior-zhou"},
        {"managers": ["mgr-sun"]},
        {"escalation_group": [f"u{i}" for i in range(51)]},
    ],
)
def test_a_bad_manager_or_group_entry_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidDirectory):
        parse_directory(json.dumps(DIRECTORY_JSON | changes))


def test_staff_recipients_by_role() -> None:
    def who(role: str, team: str | None = "billing", user: str | None = None) -> str:
        return staff_recipient(DIRECTORY, role=role, team=team, user_id=user).user_id

    assert who("team_lead") == "lead-wang"
    assert who("manager") == "mgr-sun"
    assert who("senior_group", user="senior-wu") == "senior-wu"
    assert who("agent", user="senior-zhou") == "senior-zhou"
    for role, team, user, reason in [
        ("manager", "logistics", None, "no manager configured for team logistics"),
        ("team_lead", None, None, "the complaint has no team yet"),
        ("senior_group", "billing", None, "no escalation_group configured"),
        ("senior_group", "billing", "ghost", "user ghost is not in the staff directory"),
    ]:
        with pytest.raises(NoRecipient, match=reason):
            staff_recipient(DIRECTORY, role=role, team=team, user_id=user)
    assert StaffDirectory().escalation_group == ()


# -- the delivery loop over SMTP (the harness: conftest.py)


async def test_level_two_mails_the_teams_manager(harness: Harness) -> None:
    await harness.learn()  # reference C-20261123-000042, team billing, priority P1
    await harness.consume(escalated(2, 1), topics.SLA)
    await harness.loop().run_once()

    [message] = harness.sink.to("sun.li@corp.example")
    assert len(harness.sink.messages) == 1
    assert message["Subject"] == "[投诉升级至经理] 投诉 C-20261123-000042（P1）"
    body = message.get_content()
    assert "孙丽" in body
    assert "触发原因：解决超时" in body
    assert "clock breached" in body
    assert f"https://staff.example.com/cases/{COMPLAINT_ID}" in body
    [row] = await harness.rows()
    assert (row.status, row.recipient_role, row.recipient_user) == ("sent", "manager", "mgr-sun")
    [sent] = await harness.events()
    assert isinstance(sent, NotificationSent)
    assert (sent.recipient_role, sent.recipient) == ("manager", "s***@corp.example")
    assert harness.intake.calls == []  # nothing of the customer read for a staff notice


async def test_the_notice_shows_what_the_complaints_events_recorded(harness: Harness) -> None:
    # As the consumer meets them: received (its reference), triaged (its priority) and
    # assigned (its team, whose manager is told), each through main.py's handlers.
    await harness.consume(
        example_for(ComplaintReceived).model_copy(update={"reference": "C-20261123-000099"}),
        topics.INTAKE,
    )
    await harness.consume(
        example_for(ComplaintTriaged).model_copy(update={"priority": "P2"}), topics.ROUTING
    )
    await harness.consume(
        example_for(ComplaintAssigned).model_copy(update={"team": "billing"}), topics.ROUTING
    )
    await harness.consume(escalated(2, 1), topics.SLA)
    await harness.loop().run_once()

    [message] = harness.sink.to("sun.li@corp.example")
    assert message["Subject"] == "[投诉升级至经理] 投诉 C-20261123-000099（P2）"
    [row] = [r for r in await harness.rows() if r.template == "escalation"]
    assert (row.status, row.recipient_role, row.recipient_user) == ("sent", "manager", "mgr-sun")


async def test_level_one_mails_the_team_lead(harness: Harness) -> None:
    await harness.learn()
    await harness.consume(escalated(1, 0), topics.SLA)
    await harness.loop().run_once()
    [message] = harness.sink.to("wang.lei@corp.example")
    assert message["Subject"] == "[Escalated to team lead] Complaint C-20261123-000042 (P1)"
    assert "Trigger: first-response breach" in message.get_content()


async def test_level_three_mails_each_member_once_and_records_the_gap(harness: Harness) -> None:
    await harness.learn()
    envelope = await harness.consume(escalated(3, 2), topics.SLA)
    # The same event again (a redelivery past processed_events): no second set of rows.
    async with harness.database.unit_of_work() as uow:
        await harness.handlers[ComplaintEscalated](uow, envelope)
    loop = harness.loop()
    await loop.run_once()
    await loop.run_once()

    assert sorted(r[0] for r in harness.sink.rcpts) == ["wu@corp.example", "zhou@corp.example"]
    [zhou] = harness.sink.to("zhou@corp.example")
    # A long subject is folded on the wire; what the reader sees is the unfolded text.
    assert " ".join(zhou["Subject"].split()) == (
        "[Escalated to senior escalation group] Complaint C-20261123-000042 (P1)"
    )
    [wu] = harness.sink.to("wu@corp.example")
    assert "高级升级小组" in wu["Subject"]
    rows = {row.recipient_slot: row for row in await harness.rows()}
    assert set(rows) == set(GROUP)
    assert {rows[m].status for m in ("senior-zhou", "senior-wu")} == {"sent"}
    assert rows["senior-nomail"].status == "skipped"
    assert "no e-mail address" in (rows["senior-nomail"].last_error or "")
    kinds = sorted(type(e).__name__ for e in await harness.events())
    assert kinds == ["NotificationFailed", "NotificationSent", "NotificationSent"]


async def test_a_de_escalation_mails_nobody(harness: Harness) -> None:
    await harness.consume(escalated(0, 2, trigger="de_escalation"), topics.SLA)
    assert await harness.rows() == []


async def test_a_duplicate_tells_the_customer_which_reference_stands(harness: Harness) -> None:
    await harness.consume(linked(), topics.ROUTING)
    await harness.loop().run_once()

    [message] = harness.sink.to(CUSTOMER_EMAIL)
    assert message["Subject"] == (
        "Your complaint C-20261123-000042 is handled under C-20261120-000007"
    )
    body = message.get_content()
    # The duplicate's own link: the standing complaint's link is not handed on.
    assert "https://track.example.com/c/dup" in body
    assert "https://track.example.com/c/orig" not in body
    assert body.count("C-20261120-000007") >= 2
    assert "Dear 张伟," in body
    # Both contacts were fetched just in time, nothing about them kept in the row.
    assert f"/internal/v1/complaints/{ORIGINAL_ID}/contact" in harness.intake.calls
    [row] = await harness.rows()
    assert row.context == {"duplicate_of": ORIGINAL_ID}
    assert (row.status, row.recipient_masked) == ("sent", "z***@example.com")


async def test_a_duplicate_of_an_unknown_complaint_is_skipped(harness: Harness) -> None:
    await harness.consume(
        linked().model_copy(update={"duplicate_of": "0196f7a2-0000-7000-8000-0000000000ff"}),
        topics.ROUTING,
    )
    await harness.loop().run_once()
    assert harness.sink.messages == []
    [row] = await harness.rows()
    assert row.status == "skipped"
    [failed] = await harness.events()
    assert isinstance(failed, NotificationFailed)
    assert failed.final
