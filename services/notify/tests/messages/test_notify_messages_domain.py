"""Messages' pure rules: planning, the staff directory, recipients, labels."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from complaint_contracts.events import (
    ComplaintAssigned,
    ComplaintConfirmationRequested,
    ComplaintReceived,
    ComplaintResolved,
    ComplaintTriaged,
    NpsAnswered,
    NpsSurveyRequested,
    SlaBreached,
    SlaWarning,
)
from complaint_contracts.examples import example_for
from complaint_contracts.privacy import find_contacts
from hypothesis import given
from hypothesis import strategies as st
from notify.messages.domain.directory import InvalidDirectory, parse_directory
from notify.messages.domain.labels import SOLUTION_TYPES, display_time, label
from notify.messages.domain.planning import plan_deliveries
from notify.messages.domain.recipients import (
    looks_like_address,
    masked_address,
    recipient_hash,
)


def _assigned(assignee: str | None) -> ComplaintAssigned:
    data = example_for(ComplaintAssigned)
    assert isinstance(data, ComplaintAssigned)
    return data.model_copy(update={"assignee": assignee})


@pytest.mark.parametrize(
    ("data", "template", "role"),
    [
        (example_for(ComplaintReceived), "acknowledgement", "customer"),
        (_assigned("agent-li"), "assignment", "agent"),
        (example_for(ComplaintResolved), "resolution", "customer"),
        (example_for(SlaWarning), "sla_warning", "team_lead"),
        (example_for(SlaBreached), "sla_breach", "team_lead"),
        (example_for(ComplaintConfirmationRequested), "survey_invitation", "customer"),
        (example_for(NpsSurveyRequested), "nps_invitation", "customer"),
    ],
)
def test_each_notifying_event_plans_one_delivery(data, template: str, role: str) -> None:
    [planned] = plan_deliveries(data)
    assert (planned.template, planned.recipient_role) == (template, role)
    json.dumps(planned.context)  # stored as JSON


def test_assignment_names_the_agent_and_queued_assignments_notify_nobody() -> None:
    [planned] = plan_deliveries(_assigned("agent-li"))
    assert planned.recipient_user == "agent-li"
    assert plan_deliveries(_assigned(None)) == ()


def test_events_nobody_is_told_about_plan_nothing() -> None:
    assert plan_deliveries(example_for(ComplaintTriaged)) == ()
    assert plan_deliveries(example_for(NpsAnswered)) == ()


def test_an_nps_invitation_keeps_the_request_to_fetch_its_link_with() -> None:
    [planned] = plan_deliveries(example_for(NpsSurveyRequested))
    assert planned.context == {
        "request_id": "0b7e2f4c-93a1-5d2e-8f60-1a2b3c4d5e6f",
        "expires_at": "2026-12-15T01:00:00+00:00",
    }


def test_planned_context_carries_no_raw_contacts() -> None:
    for model in (ComplaintReceived, ComplaintResolved, SlaWarning, SlaBreached):
        for planned in plan_deliveries(example_for(model)):
            assert not find_contacts(json.dumps(planned.context, ensure_ascii=False))


def test_directory_parses_users_and_team_leads() -> None:
    directory = parse_directory(
        json.dumps(
            {
                "users": {
                    "agent-li": {"email": "li@corp.example", "name": "李娜", "language": "zh-CN"},
                    "lead-wang": {"email": "wang@corp.example"},
                },
                "team_leads": {"billing": "lead-wang"},
            }
        ),
        default_language="en",
    )
    lead = directory.user(directory.team_lead_of("billing"))
    assert lead is not None
    assert (lead.email, lead.name, lead.language) == ("wang@corp.example", "lead-wang", "en")
    assert directory.user("nobody") is None
    assert directory.team_lead_of("logistics") is None
    assert directory.team_lead_of(None) is None


@pytest.mark.parametrize("text", ["not json", '{"users": []}', '{"leads": {}}'])
def test_bad_directory_is_refused(text: str) -> None:
    with pytest.raises(InvalidDirectory):
        parse_directory(text)


def test_empty_directory_is_empty() -> None:
    assert parse_directory("").users == {}


emails = st.emails().filter(lambda e: len(e) <= 320)


@given(email=emails)
def test_masked_address_never_holds_the_raw_address(email: str) -> None:
    masked = masked_address(email)
    assert "***@" in masked
    assert not find_contacts(masked)


@given(email=emails, key=st.binary(min_size=1, max_size=64))
def test_recipient_hash_is_stable_case_insensitive_and_not_the_address(
    email: str, key: bytes
) -> None:
    digest = recipient_hash(key=key, address=email)
    assert digest == recipient_hash(key=key, address=f"  {email.upper()} ")
    assert len(digest) == 64
    assert email.lower() not in digest


def test_addresses_worth_sending_to() -> None:
    assert looks_like_address("zhang.wei@example.com")
    for bad in (None, "", "zhang", "a@b", "a b@example.com", "x" * 400 + "@example.com"):
        assert not looks_like_address(bad)


def test_labels_and_times() -> None:
    assert label(SOLUTION_TYPES, language="zh-CN", code="refund") == "退款"
    assert label(SOLUTION_TYPES, language="en", code="process_fix") == "process improvement"
    assert label(SOLUTION_TYPES, language="en", code="unknown-code") == "unknown-code"
    shown = display_time(datetime(2026, 11, 23, 10, 0, tzinfo=UTC), zone="Asia/Shanghai")
    assert shown == "2026-11-23 18:00 (Asia/Shanghai)"
    assert display_time("2026-11-23T10:00:00+00:00", zone="UTC") == "2026-11-23 10:00 (UTC)"
