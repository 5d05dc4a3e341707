"""The pure rules of linking and unlinking duplicates by hand: who may, and which pairs."""

from __future__ import annotations

import pytest
from routing.cases.domain.lifecycle import OPEN, STATES
from routing.duplicates.domain.manual import (
    LinkedCase,
    LinkRefused,
    UnlinkRefused,
    check_link,
    check_unlink,
    may_link,
)


def case(
    cid: str = "copy",
    *,
    status: str = "assigned",
    duplicate_of: str | None = None,
    close_reason: str | None = None,
    open_copies: int = 0,
) -> LinkedCase:
    return LinkedCase(
        complaint_id=cid,
        reference=f"C-{cid}",
        status=status,
        duplicate_of=duplicate_of,
        close_reason=close_reason,
        open_copies=open_copies,
    )


ORIGINAL = case("original", status="in_progress")


@pytest.mark.parametrize(
    ("roles", "team", "case_team", "allowed"),
    [
        ({"agent"}, "billing", "billing", True),  # any agent of the team, not only the assignee
        ({"lead"}, "billing", "billing", True),
        ({"manager"}, None, "billing", True),
        ({"manager"}, "quality", None, True),  # a held copy with no team of its own
        ({"agent"}, "quality", "billing", False),
        ({"lead"}, "quality", "billing", False),
        ({"agent", "lead"}, None, "billing", False),  # no team claim: fails closed
        ({"agent"}, "billing", None, False),
        ({"admin"}, "billing", "billing", False),
        ({"service"}, None, "billing", False),
    ],
)
def test_who_may_link(
    roles: set[str], team: str | None, case_team: str | None, allowed: bool
) -> None:
    assert may_link(roles=roles, team=team, case_team=case_team) is allowed


@pytest.mark.parametrize("status", sorted(OPEN))
def test_an_open_case_merges_into_another_open_case(status: str) -> None:
    check_link(case(status=status), ORIGINAL)
    check_link(case(), case("original", status=status))


@pytest.mark.parametrize(
    ("copy", "original", "reason"),
    [
        (case("same"), case("same"), "self"),
        (case(status="closed"), ORIGINAL, "copy_closed"),
        (case(status="received", duplicate_of="other"), ORIGINAL, "already_duplicate"),
        (case(open_copies=2), ORIGINAL, "has_open_copies"),
        (case(), case("original", status="closed"), "original_closed"),
        (case(), case("original", status="received", duplicate_of="x"), "original_is_duplicate"),
    ],
)
def test_link_refusals_name_their_rule(copy: LinkedCase, original: LinkedCase, reason: str) -> None:
    with pytest.raises(LinkRefused) as refused:
        check_link(copy, original)
    assert refused.value.extensions == {"reason": reason}
    assert refused.value.kind == "duplicate-link-refused"
    assert copy.reference in str(refused.value) or original.reference in str(refused.value)


def test_the_copys_own_refusal_comes_first() -> None:
    """The copy's own state is told first: that is what the caller can act on."""
    with pytest.raises(LinkRefused) as refused:
        check_link(case(status="closed"), case("original", status="closed"))
    assert refused.value.extensions == {"reason": "copy_closed"}


@pytest.mark.parametrize("status", sorted(OPEN))
def test_an_open_linked_copy_may_be_unlinked(status: str) -> None:
    copy = case(status=status, duplicate_of="original")
    check_unlink(copy)
    assert copy.is_held is (status == "received")


def test_only_a_linked_case_is_unlinked() -> None:
    with pytest.raises(UnlinkRefused) as refused:
        check_unlink(case(status="received"))
    assert refused.value.extensions == {"reason": "not_linked"}
    assert not case(status="received").is_held


def test_a_merged_copy_stays_closed_and_says_why() -> None:
    merged = case(status="closed", duplicate_of="original", close_reason="duplicate")
    with pytest.raises(UnlinkRefused) as refused:
        check_unlink(merged, original_reference="C-20261120-000001")
    assert refused.value.extensions == {"reason": "closed_by_merge"}
    detail = str(refused.value)
    assert "closed as a duplicate of C-20261120-000001" in detail
    assert "merged" in detail


def test_a_copy_closed_otherwise_is_refused_too() -> None:
    withdrawn = case(status="closed", duplicate_of="original", close_reason="withdrawn")
    with pytest.raises(UnlinkRefused) as refused:
        check_unlink(withdrawn)
    assert refused.value.extensions == {"reason": "copy_closed"}


def test_every_state_is_either_open_or_refused() -> None:
    for status in STATES:
        copy = case(status=status, duplicate_of="original", close_reason="duplicate")
        if status in OPEN:
            check_unlink(copy)
        else:
            with pytest.raises(UnlinkRefused):
                check_unlink(copy)
