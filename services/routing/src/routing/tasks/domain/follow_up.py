"""The 回访 follow-up call (§3: "for P1/P2 a follow-up call task 15–30 days later") and the
task a customer nobody can reach gives the lead (Decision: unreachable customers).

**Follow-up call.** Resolving a P1 or P2 case opens one ``follow_up_call`` task: the call
is made no earlier than ``after`` (``FOLLOW_UP_CALL_AFTER_D``, 15 days) and is due by
``due`` (``FOLLOW_UP_CALL_DUE_D``, 30 days) after the resolution. It goes to the case's
first-contact owner (首问负责制) while they are an agent of the case's team, else to the
team, whose lead assigns it. A case has at most one open follow-up call: resolving it again
(after a reopen) moves the open task's window to the new resolution instead of adding one.
Completing it before its window opens is refused (409 ``task-not-available``).

**Customer unreachable.** notify's final report that no channel reaches the customer about
a confirmation request opens one ``customer_unreachable`` task for the lead of the case's
team while the case waits for the customer's confirmation; the auto-close still follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from complaint_contracts.events import ComplaintConfirmationRequested, NotificationFailed

FOLLOW_UP_PRIORITIES: Final = frozenset({"P1", "P2"})
WAITING_FOR_CONFIRMATION: Final = frozenset({"resolved", "awaiting_confirmation"})
DEFAULT_UNREACHABLE_DUE: Final = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class FollowUpWindow:
    """When a follow-up call may be made and when it falls due, after the resolution."""

    after: timedelta = timedelta(days=15)
    due: timedelta = timedelta(days=30)

    def __post_init__(self) -> None:
        if self.after < timedelta(0) or self.due <= self.after:
            raise ValueError("a follow-up window needs 0 <= after < due")

    def of(self, resolved_at: datetime) -> tuple[datetime, datetime]:
        """(available from, due at) for a case resolved at ``resolved_at``."""
        return resolved_at + self.after, resolved_at + self.due


DEFAULT_WINDOW: Final = FollowUpWindow()


def needs_follow_up(priority: str | None) -> bool:
    return priority in FOLLOW_UP_PRIORITIES


def follow_up_assignee(*, owner: str | None, owner_team: str | None, case_team: str) -> str | None:
    """The first-contact owner while they are an agent of the case's team (``owner_team``:
    their team in the agents table, None when unknown); else None: the team's lead assigns."""
    if owner is None or owner_team != case_team:
        return None
    return owner


def available(*, available_from: datetime | None, now: datetime) -> bool:
    """A task without a window start is workable at once."""
    return available_from is None or now >= available_from


def reports_unreachable_customer(failed: NotificationFailed) -> bool:
    """notify's final word that no channel reaches the customer about a confirmation
    request (the request or its reminder)."""
    return (
        failed.reason == "no_channel"
        and failed.recipient_role == "customer"
        and failed.cause_event_type == ComplaintConfirmationRequested.ce_type()
    )


def wants_unreachable_task(*, status: str) -> bool:
    """Only while the case waits for the customer's confirmation: a reopened, withdrawn or
    closed case needs no call about the survey."""
    return status in WAITING_FOR_CONFIRMATION
