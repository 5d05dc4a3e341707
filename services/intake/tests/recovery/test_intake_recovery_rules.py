"""The pure rules of lost-link recovery: the code (6 digits, keyed hash bound to its
request, typed forgivingly), its life (10 minutes, 5 attempts, once), the form's checks and
how an entered contact is compared with the complaint's keyed hashes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from complaint_customer_web.catalog import Catalog
from intake.complaints.domain.customers import identify
from intake.pages.domain.recovery_words import RECOVERY_WORDS
from intake.pages.domain.words import WORDS
from intake.recovery.domain.codes import (
    CODE_TTL,
    MAX_ATTEMPTS,
    Check,
    CodeState,
    check_code,
    code_hash,
    code_matches,
    expires_at,
    new_code,
    normalise_code,
)
from intake.recovery.domain.requests import (
    check_form,
    contact_matches,
    entered_contact,
    flow_hash,
    normalise_reference,
    recovery_rate_key,
    reference_rate_key,
)

KEY = b"ref-key"
NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)


def _state(*, attempts: int = 0, consumed: bool = False) -> CodeState:
    return CodeState(expires_at=expires_at(NOW), attempts=attempts, consumed=consumed)


def test_a_code_is_six_random_digits() -> None:
    codes = {new_code() for _ in range(200)}
    assert all(re.fullmatch(r"\d{6}", code) for code in codes)
    assert len(codes) > 190  # random, not a counter


def test_the_stored_hash_is_keyed_and_bound_to_its_request() -> None:
    stored = code_hash(KEY, request_id="r1", code="004217")
    assert "004217" not in stored
    assert code_matches(KEY, request_id="r1", stored_hash=stored, code="004217")
    assert not code_matches(KEY, request_id="r1", stored_hash=stored, code="004218")
    assert not code_matches(KEY, request_id="r2", stored_hash=stored, code="004217")
    assert not code_matches(b"other-key", request_id="r1", stored_hash=stored, code="004217")
    assert not code_matches(KEY, request_id="r1", stored_hash=None, code="004217")  # decoy


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("004217", "004217"),
        (" 004 217 ", "004217"),
        ("004-217", "004217"),
        ("００４２１７", "004217"),  # a Chinese keyboard's full-width digits
        ("04217", None),
        ("0042170", None),
        ("00421a", None),
        ("٠٠٤٢١٧", None),  # other scripts' digits are not ours
        ("", None),
        (None, None),
    ],
)
def test_a_typed_code_is_read_forgivingly(typed: str | None, code: str | None) -> None:
    assert normalise_code(typed) == code


def test_the_code_lives_ten_minutes_and_the_end_belongs_to_expiry() -> None:
    assert expires_at(NOW) - NOW == CODE_TTL == timedelta(minutes=10)
    almost = NOW + CODE_TTL - timedelta(microseconds=1)
    assert check_code(_state(), matches=True, now=almost) == Check("accepted", MAX_ATTEMPTS)
    assert check_code(_state(), matches=True, now=NOW + CODE_TTL).verdict == "expired"


def test_five_wrong_entries_spend_the_code() -> None:
    left = [check_code(_state(attempts=n), matches=False, now=NOW) for n in range(MAX_ATTEMPTS)]
    assert [c.attempts_left for c in left] == [4, 3, 2, 1, 0]
    assert [c.verdict for c in left] == ["wrong"] * 4 + ["exhausted"]
    # Spent: even the right digits open nothing (the sixth guess is not free).
    spent = check_code(_state(attempts=MAX_ATTEMPTS), matches=True, now=NOW)
    assert spent == Check("exhausted", 0)


def test_a_used_code_opens_nothing_again() -> None:
    assert check_code(_state(consumed=True), matches=True, now=NOW).verdict == "expired"


@pytest.mark.parametrize(
    ("typed", "reference"),
    [
        ("C-20261207-000042", "C-20261207-000042"),
        (" c-20261207-000042 ", "C-20261207-000042"),
        ("C - 20261207 - 000042", "C-20261207-000042"),
        ("Ｃ－２０２６１２０７－００００４２", "C-20261207-000042"),
        ("C-20261207-1234567", "C-20261207-1234567"),  # a busy day's seventh digit
        ("C-2026127-000042", None),
        ("20261207-000042", None),
        ("", None),
    ],
)
def test_a_typed_reference_is_normalised(typed: str, reference: str | None) -> None:
    assert normalise_reference(typed) == reference


def test_the_contact_matches_the_keyed_hash_it_was_filed_under() -> None:
    filed = identify(KEY, customer_id=None, phone="+86 138-1234-5678", email="Li.Na@Example.com")
    hashes = {"phone_hash": filed.phone_hash, "email_hash": filed.email_hash}
    for typed in ("13812345678", "0086 138 1234 5678", "li.na@example.com ", "LI.NA@EXAMPLE.COM"):
        entered = entered_contact(KEY, typed)
        assert entered is not None, typed
        assert contact_matches(entered, **hashes), typed
    other = entered_contact(KEY, "13812345679")
    assert other is not None
    assert not contact_matches(other, **hashes)
    by_phone = entered_contact(KEY, "13812345678")
    assert by_phone is not None
    assert not contact_matches(by_phone, phone_hash=None, email_hash=filed.email_hash)
    assert entered_contact(KEY, "13812345678") == by_phone  # a hash, stable, not the number
    assert "13812345678" not in by_phone.hash


@pytest.mark.parametrize("typed", ["li.na@", "@example.com", "12345", "call me", "138abc45678"])
def test_what_is_no_contact(typed: str) -> None:
    assert entered_contact(KEY, typed) is None


def test_the_form_names_every_problem_at_once() -> None:
    empty = check_form(KEY, reference="", contact=" ")
    assert empty.errors == {
        "reference": "recover.reference.empty",
        "contact": "recover.contact.empty",
    }
    wrong = check_form(KEY, reference="C-123", contact="nope")
    assert wrong.errors == {
        "reference": "recover.reference.invalid",
        "contact": "recover.contact.invalid",
    }
    good = check_form(KEY, reference="c-20261207-000042", contact="li.na@example.com")
    assert good.errors == {}
    assert good.reference == "C-20261207-000042"
    assert good.contact is not None
    assert good.contact.kind == "email"


def test_rate_and_flow_keys_never_hold_what_was_typed_raw() -> None:
    assert reference_rate_key(" c-20261207-000042") == "C-20261207-000042"
    assert reference_rate_key("13812345678").startswith("x")
    assert "13812345678" not in reference_rate_key("13812345678")
    assert flow_hash("abc") != flow_hash("abd")
    assert "abc" not in flow_hash("abc")


def test_asking_counts_per_reference_and_contact_hash() -> None:
    def key(reference: str, contact: str) -> str:
        return recovery_rate_key(KEY, reference=reference, contact=contact)

    email = key("C-20261207-000042", "li.na@example.com")
    assert email.startswith("C-20261207-000042:")
    assert "li.na" not in email
    assert key(" c-20261207-000042", " Li.Na@Example.com ") == email  # as matching forgives
    assert key("C-20261207-000042", "+86 138-1234-5678") == key("C-20261207-000042", "13812345678")
    junk = {key("C-20261207-000042", c) for c in ("x@example.com", "13900001111", "junk!")}
    assert email not in junk
    assert len(junk) == 3
    assert key("C-20261207-000043", "li.na@example.com") != email
    assert "junk" not in key("C-20261207-000042", "junk!")


def test_every_word_of_the_lost_link_pages_exists_in_both_languages() -> None:
    assert Catalog().with_messages(WORDS).with_messages(RECOVERY_WORDS).missing() == {}
    assert not set(RECOVERY_WORDS["en"]) & set(WORDS["en"])  # none hides a tracking word
