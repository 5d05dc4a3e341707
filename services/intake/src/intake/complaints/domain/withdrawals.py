"""The customer withdraws their complaint (requirements §3, Decision: withdrawal).

The withdrawal is the customer's own confirmation: it closes the complaint (``withdrawn``)
without the closure guard's resolution fields. Intake records it at once (the tracking view
shows the complaint closed, further messages are refused) and announces it
(``complaint.withdrawn``); routing closes the case when it consumes it.

Decisions:

- Any open status may be withdrawn, whatever routing has made of it so far (received,
  assigned, resolved, awaiting the customer's confirmation…): the customer need not wait
  for anyone before ending their own complaint.
- A complaint already withdrawn is refused with 409 ``complaint-withdrawn``: a retried
  withdrawal (a double click, a lost answer) is told plainly that it already happened, and
  announces nothing twice.
- A complaint closed for another reason is refused with 409 ``complaint-closed``: there is
  nothing to withdraw, and a closure routing recorded is not rewritten after the fact.
- The reason is optional; a blank one is no reason. Raw contacts in it are masked like a
  message's, and only the masked text is kept: it tells staff why, which needs no phone
  number, so no raw contact has to be kept (or erased) for it.
"""

from __future__ import annotations

from typing import Final

from complaint_contracts.privacy import redact_contacts

from intake.complaints.domain.errors import ComplaintClosed, ComplaintWithdrawn

WITHDRAWN: Final = "withdrawn"  # the closure's reason, as routing's complaint.closed names it
CUSTOMER: Final = "customer"  # who acts, in the event: the customer, whoever relayed it
MAX_REASON: Final = 2000  # the bound of the API's field and of the event's


def check_withdrawable(*, status: str, close_reason: str | None) -> None:
    """Refuse the withdrawal of a complaint that is no longer open (see the decisions)."""
    if status != "closed":
        return
    if close_reason == WITHDRAWN:
        raise ComplaintWithdrawn(
            "This complaint was already withdrawn; nothing more is needed. "
            "Please post a new complaint if you need help again."
        )
    raise ComplaintClosed(
        "This complaint is already closed, so it cannot be withdrawn. "
        "Write a message on it if you need it looked at again."
    )


def masked_reason(reason: str | None) -> str | None:
    """The reason as it is kept and announced: raw contacts masked, blank as none, never
    longer than the event allows."""
    if reason is None or not reason.strip():
        return None
    return redact_contacts(reason.strip())[:MAX_REASON]
