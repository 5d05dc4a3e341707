"""The pure rules of the data subjects' rights: who may ask about which customer, how a
correction merges, when retention is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from complaint_runtime.errors import InvalidInput
from intake.complaints.domain.customers import keyed_hash
from intake.rights.domain.corrections import ContactDetails, changed, check_identifiable, merge
from intake.rights.domain.errors import NothingToCorrect, OtherFrontEnd, ScopeMissing
from intake.rights.domain.retention import is_due, retention_cutoff
from intake.rights.domain.subjects import (
    EXPORT_SCOPE,
    RightsCaller,
    SubjectQuery,
    subject_query,
)

KEY = b"ref-key-for-intake-tests-0123456789abcdef"
ADMIN = RightsCaller.admin("ops-1")
WEB = RightsCaller.of_front_end("web", frozenset({EXPORT_SCOPE}))
UNSCOPED = RightsCaller.of_front_end("web", frozenset())


def _query(caller: RightsCaller, **named: str | None) -> SubjectQuery:
    given: dict[str, str | None] = {"external_ref": None, "phone": None, "email": None}
    front_end = named.pop("front_end", None)
    return subject_query(KEY, caller, **(given | named), front_end=front_end, scope=EXPORT_SCOPE)


def test_a_phone_is_matched_by_its_keyed_hash_however_it_was_written() -> None:
    one = _query(ADMIN, phone="+86 138-1234-5678")
    other = _query(ADMIN, phone="13812345678")
    assert one == other
    assert one.value == keyed_hash(KEY, "phone", "13812345678")
    assert one.front_end is None  # an admin: every front end


def test_an_email_is_matched_case_insensitively() -> None:
    assert _query(ADMIN, email="Li@Example.com") == _query(ADMIN, email="li@example.com")


def test_an_admin_names_the_front_end_of_an_external_id() -> None:
    with pytest.raises(InvalidInput) as refused:
        _query(ADMIN, external_ref="CRM-7")
    assert refused.value.errors is not None
    assert refused.value.errors[0]["field"] == "front_end"
    query = _query(ADMIN, external_ref=" CRM-7 ", front_end="app")
    assert (query.kind, query.value, query.front_end) == ("external_ref", "CRM-7", "app")


def test_a_key_needs_the_scope_and_asks_about_its_own_front_end_only() -> None:
    with pytest.raises(ScopeMissing):
        _query(UNSCOPED, email="li@example.com")
    with pytest.raises(OtherFrontEnd):
        _query(WEB, email="li@example.com", front_end="app")
    assert _query(WEB, external_ref="CRM-7").front_end == "web"
    assert _query(WEB, phone="13812345678", front_end="web").front_end == "web"


def test_who_may_act_on_a_complaint() -> None:
    assert ADMIN.may_act_on("web")
    assert ADMIN.may_act_on(None)
    assert WEB.may_act_on("web")
    assert not WEB.may_act_on("app")
    assert not WEB.may_act_on(None)  # no front end recorded: an administrator's only
    assert (ADMIN.actor, WEB.actor) == ("admin:ops-1", "front-end:web")


CURRENT = ContactDetails(
    name="Zhang Wei", phone="+8613812345678", email=None, preferred_channel="sms"
)


def test_a_correction_is_a_merge_patch() -> None:
    merged = merge(CURRENT, {"phone": "13900001111", "name": None, "email": "z@example.com"})
    assert merged == ContactDetails(
        name=None, phone="13900001111", email="z@example.com", preferred_channel="sms"
    )
    assert changed(CURRENT, merged) == ("name", "phone", "email")
    assert changed(CURRENT, merge(CURRENT, {"phone": "+8613812345678"})) == ()


def test_an_empty_correction_is_refused() -> None:
    with pytest.raises(NothingToCorrect):
        merge(CURRENT, {})
    with pytest.raises(ValueError, match="not contact fields"):
        merge(CURRENT, {"tier": "vip"})


def test_a_customer_must_stay_identifiable() -> None:
    stripped = merge(CURRENT, {"phone": None})
    with pytest.raises(InvalidInput):
        check_identifiable(stripped, customer_id=None)
    check_identifiable(stripped, customer_id="CRM-7")  # the external id still names them


NOW = datetime(2029, 12, 6, 12, tzinfo=UTC)
PERIOD = timedelta(days=1095)


def test_retention_is_due_strictly_after_the_period_of_a_closed_complaint() -> None:
    cutoff = retention_cutoff(NOW, PERIOD)
    assert not is_due(status="closed", closed_at=cutoff, now=NOW, period=PERIOD)  # the end
    just_before = cutoff - timedelta(microseconds=1)
    assert is_due(status="closed", closed_at=just_before, now=NOW, period=PERIOD)
    assert not is_due(status="reopened", closed_at=just_before, now=NOW, period=PERIOD)
    assert not is_due(status="closed", closed_at=None, now=NOW, period=PERIOD)
    with pytest.raises(ValueError, match="positive"):
        retention_cutoff(NOW, timedelta(0))
