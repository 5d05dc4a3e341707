"""A correction of the customer's contact details (§10, the right to rectification),
reported by intake (``complaint.contacts_corrected``) and applied in the consumer's
transaction.

Decisions:

- The case file's masked phone, masked e-mail and preferred channel become the event's:
  it carries the complaint's contacts after the correction (not a patch), so a redelivery
  (which the consumer drops by its id anyway) or a later correction leaves the latest.
- The history gets a staff-visible step ``contacts_corrected`` with who corrected and which
  fields, never the values (the case file shows the current masked ones). It does not move
  the case's version: nothing an agent's form sends changed, as with a customer message.
- The raw contacts stay in intake: a lead who reveals the contact after the correction gets
  the corrected one from intake's API, nothing here to update.
- A correction of a case routing does not know, or of an erased case file, changes nothing
  and is not dead-lettered: intake refuses to correct an erased complaint and sends the
  correction after ``complaint.received`` on the same partition, so either is a replay of
  an old log or a case removed by hand, and dead-lettering would only page someone.
- The masked address of an unreachable-customer task stays: it records where notify's
  message could not be delivered, a fact about that delivery, not the customer's contact.
- The customer index (duplicates and repeats, §4) re-keys the complaint by the event's
  identity keys (the corrected contacts' keyed hashes) in the same transaction: a complaint
  from the old number no longer links to it, one from the new number does. Its customer
  reference key stays (a correction keeps the reference). An event without keys (v1 from
  before they were added) leaves the index as it is.
"""

from __future__ import annotations

from typing import Final

import structlog
from complaint_contracts.events import ComplaintContactsCorrected
from complaint_runtime.database import UnitOfWork

from routing.casefile.db import CaseFileRepository
from routing.cases.transitions import Actor, record
from routing.db import CaseRepository
from routing.duplicates import service as duplicates

CONTACTS_CORRECTED: Final = "contacts_corrected"

log = structlog.get_logger(__name__)


async def apply_contacts_corrected(
    *, uow: UnitOfWork, corrected: ComplaintContactsCorrected, event_id: str
) -> bool:
    """The case file's masked contacts replaced by the corrected ones, the complaint
    re-keyed in the customer index, with the history step (see the module's decisions);
    False when there was no case file to correct."""
    # The case first, locked, as every change of a case (and an erasure) takes it.
    case = await CaseRepository(uow.session).get_for_update(corrected.complaint_id)
    case_file = await CaseFileRepository(uow.session).file(corrected.complaint_id)
    if case is None or case_file is None or case_file.erased_at is not None:
        log.warning(
            "event ignored: no case file to correct",
            complaint_id=corrected.complaint_id,
            event_id=event_id,
        )
        return False
    case_file.customer_masked_phone = corrected.masked_phone
    case_file.customer_masked_email = corrected.masked_email
    case_file.customer_preferred_channel = corrected.preferred_channel
    await duplicates.rekey(
        uow=uow, complaint_id=corrected.complaint_id, identity_keys=corrected.identity_keys
    )
    record(
        uow,
        case,
        actor=Actor(corrected.actor),
        action=CONTACTS_CORRECTED,
        from_status=case.status,
        to_status=case.status,
        event_id=event_id,
        detail={"fields": list(corrected.corrected)},
        at=corrected.corrected_at,
    )
    return True
