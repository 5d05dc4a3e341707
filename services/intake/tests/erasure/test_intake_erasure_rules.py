"""The pure rules of erasure: what a history step keeps (structure, codes, times, staff;
never text), how a customer is named (normalised like intake's columns, scoped, exactly
one contact), when an erasure is complete, and who reads it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from complaint_contracts.events import (
    CaseErasureCompleted,
    ErasureRequested,
    FeedbackErasureCompleted,
    NotificationErasureCompleted,
    SlaErasureCompleted,
)
from complaint_runtime.errors import Forbidden, InvalidInput
from intake.complaints.domain.customers import identify
from intake.erasure.domain.anonymisation import (
    blank_history_data,
    erased_customer_ref,
    is_erased,
)
from intake.erasure.domain.errors import ScopeMissing
from intake.erasure.domain.progress import ComplaintProgress, status_of
from intake.erasure.domain.requesters import Requester
from intake.erasure.domain.subjects import contact_hash, contact_subject, external_ref_subject
from intake.projection.domain.visibility import visible_to_customer

KEY = b"ref-key-for-intake-erasure-tests-0123456789abcdef"
AT = datetime(2026, 12, 6, tzinfo=UTC)


def test_a_step_keeps_its_shape_codes_ids_and_times_and_loses_every_text() -> None:
    step = {
        "complaint_id": "0195f9a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b",
        "category": "delivery_logistics",
        "priority": "P2",
        "actor": "agent-0042",
        "team": "logistics",
        "replied_at": "2026-12-06T10:00:00+00:00",
        "confidence": 0.9,
        "handoff": False,
        "repeat_count": 2,
        "subcategory": None,
        "message": "Dear Zhang Wei, call 138****5678",
        "agent_name": "Li Na",
        "customer_ref": "cus_0123",
        "rules_fired": [{"rule": "category.x", "detail": "matched 'crushed'"}],
        "metadata": {"crm": "K-1"},
        "matched_on": ["order_ref", "text"],
        "reason": "withdrawn",
    }
    assert blank_history_data(step) == {
        **step,
        "message": "",
        "agent_name": "",
        "customer_ref": "",
        "rules_fired": [],
        "metadata": {},
    }


@pytest.mark.parametrize(
    ("reason", "kept"),
    [("duplicate", "duplicate"), ("auto_closed", "auto_closed"), ("I found it cheaper", "")],
)
def test_a_reason_is_kept_only_when_it_is_a_code(reason: str, kept: str) -> None:
    assert blank_history_data({"reason": reason}) == {"reason": kept}


def test_an_erased_reference_links_to_nothing() -> None:
    one, two = erased_customer_ref(), erased_customer_ref()
    assert one != two
    assert is_erased(one)
    assert len(one) <= 40  # complaints.customer_ref
    assert not is_erased("cus_0123")


@pytest.mark.parametrize("phone", ["+86 139-0871-5523", "0086 13908715523", "13908715523"])
def test_a_phone_is_matched_as_intake_stored_it(phone: str) -> None:
    subject = contact_subject(phone=phone, email=None, scope="*")
    stored = identify(KEY, customer_id=None, phone="13908715523", email=None).phone_hash
    assert contact_hash(KEY, subject) == stored


def test_an_email_is_matched_case_insensitively() -> None:
    subject = contact_subject(phone=None, email=" Zhang.Wei@Example.COM ", scope="web")
    stored = identify(KEY, customer_id=None, phone=None, email="zhang.wei@example.com").email_hash
    assert contact_hash(KEY, subject) == stored


def test_the_kept_name_is_a_keyed_hash_of_kind_scope_and_value() -> None:
    web = external_ref_subject(" CRM-1 ", front_end="web")
    assert web.value == "CRM-1"
    hashes = {
        web.subject_hash(KEY),
        external_ref_subject("CRM-1", front_end="app").subject_hash(KEY),
        contact_subject(phone="13908715523", email=None, scope="web").subject_hash(KEY),
        web.subject_hash(b"another-key-another-key-another-key"),
    }
    assert len(hashes) == 4
    assert "CRM-1" not in "".join(hashes)


@pytest.mark.parametrize(
    ("phone", "email"),
    [(None, None), ("13908715523", "a@example.com"), ("abc", None), (None, "a@b"), ("+86", None)],
)
def test_a_customer_is_named_by_exactly_one_wellformed_contact(
    phone: str | None, email: str | None
) -> None:
    with pytest.raises(InvalidInput):
        contact_subject(phone=phone, email=email, scope="*")


def test_an_erasure_completes_when_every_complaint_is_erased_and_confirmed() -> None:
    every = dict.fromkeys(("routing", "sla-watch", "feedback", "notify"), AT)
    done = ComplaintProgress("a", held=False, erased_at=AT, confirmations=every)
    partial = ComplaintProgress("b", held=False, erased_at=AT, confirmations={"routing": AT})
    held = ComplaintProgress("c", held=True, erased_at=None, confirmations={})
    assert status_of([]) == "completed"
    assert status_of([done]) == "completed"
    assert status_of([done, partial]) == "pending"
    assert status_of([done, held]) == "pending"
    assert partial.awaiting == ("sla-watch", "feedback", "notify")


def test_who_requests_and_reads() -> None:
    with pytest.raises(ScopeMissing):
        Requester.of_front_end("web", has_erasure_scope=False)
    web = Requester.of_front_end("web", has_erasure_scope=True)
    assert (web.actor, web.contact_scope(), web.external_ref_scope(None)) == (
        "front-end:web",
        "web",
        "web",
    )
    with pytest.raises(Forbidden):
        web.external_ref_scope("app")
    assert web.may_read(requested_by_front_end="web")
    assert not web.may_read(requested_by_front_end="app")
    assert not web.may_read(requested_by_front_end=None)
    admin = Requester.of_staff("admin-7", frozenset({"admin"}))
    assert admin.contact_scope() == "*"
    assert admin.external_ref_scope("app") == "app"
    with pytest.raises(InvalidInput):
        admin.external_ref_scope(None)
    auditor = Requester.of_staff("aud-1", frozenset({"auditor"}))
    agent = Requester.of_staff("agent-1", frozenset({"agent"}))
    assert auditor.may_read(requested_by_front_end="web")
    assert not agent.may_read(requested_by_front_end=None)
    with pytest.raises(Forbidden):
        auditor.check_may_request()


def test_the_customer_never_sees_an_erasure_or_its_confirmations() -> None:
    for model in (
        ErasureRequested,
        CaseErasureCompleted,
        SlaErasureCompleted,
        FeedbackErasureCompleted,
        NotificationErasureCompleted,
    ):
        assert not visible_to_customer(model.ce_type())
