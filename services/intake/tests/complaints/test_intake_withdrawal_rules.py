"""§3, Decision (withdrawal), intake's pure rules: which complaints may be withdrawn, and the
reason as it is kept (contacts masked, blank as none, bounded)."""

from __future__ import annotations

import pytest
from complaint_contracts.privacy import find_contacts
from complaint_runtime.errors import Conflict
from intake.complaints.domain.errors import ComplaintClosed, ComplaintWithdrawn
from intake.complaints.domain.withdrawals import MAX_REASON, check_withdrawable, masked_reason

OPEN = (
    "received",
    "triaged",
    "assigned",
    "in_progress",
    "awaiting_customer",
    "resolved",
    "awaiting_confirmation",
    "reopened",
)


@pytest.mark.parametrize("status", OPEN)
def test_every_open_complaint_may_be_withdrawn(status: str) -> None:
    # A close reason kept from an earlier closure does not matter once it is open again.
    check_withdrawable(status=status, close_reason=None)
    check_withdrawable(status=status, close_reason="confirmed")


def test_a_withdrawn_complaint_is_refused_as_withdrawn() -> None:
    with pytest.raises(ComplaintWithdrawn) as refused:
        check_withdrawable(status="closed", close_reason="withdrawn")
    assert refused.value.kind == "complaint-withdrawn"
    assert "already withdrawn" in str(refused.value.detail)


@pytest.mark.parametrize("reason", ["confirmed", "auto_closed", "duplicate", None])
def test_a_complaint_closed_otherwise_is_refused_as_closed(reason: str | None) -> None:
    with pytest.raises(ComplaintClosed) as refused:
        check_withdrawable(status="closed", close_reason=reason)
    assert isinstance(refused.value, Conflict)
    assert refused.value.kind == "complaint-closed"
    assert "already closed" in str(refused.value.detail)


def test_the_reason_is_masked_trimmed_and_bounded() -> None:
    masked = masked_reason("  Sorted, call me on 13812345678 or mail zhang.wei@example.com  ")
    assert masked == "Sorted, call me on 138****5678 or mail z***@example.com"
    assert not find_contacts(masked)
    assert len(masked_reason("长" * (MAX_REASON + 5)) or "") == MAX_REASON


@pytest.mark.parametrize("reason", [None, "", "   \n"])
def test_a_blank_reason_is_no_reason(reason: str | None) -> None:
    assert masked_reason(reason) is None
