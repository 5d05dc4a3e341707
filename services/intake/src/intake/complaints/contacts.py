"""The raw contacts of several complaints at once, for notify's delivery loop: the batch form
of :func:`intake.complaints.service.contact_card` (the same fields per complaint, the same
encryption at rest), read in **one** query however many complaints a batch names.

Notify claims deliveries in batches and prepares each just before it is sent; a lookup per
delivery cost a request, a token check and two queries each. The batch is bounded
(:data:`MAX_LOOKUP`), answers the complaints it found and names the ones it did not (the
single lookup's 404), and stores nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from complaint_runtime.database import Database
from sqlalchemy import and_, select

from intake.complaints.domain.secret_keys import Secrets
from intake.complaints.service import ContactDetails, contact_details
from intake.db import ID_LENGTH, Complaint, HistoryEntry
from intake.projection.domain.promises import (
    CLOCK_TYPES,
    ClockStep,
)

MAX_LOOKUP: Final = 100  # complaint ids per lookup: notify's batches are split to fit


@dataclass(frozen=True)
class ContactLookup:
    """The contacts of the complaints found (in the order asked, each once) and the ids
    intake does not know."""

    found: tuple[ContactDetails, ...]
    not_found: tuple[str, ...]


# Only what the answer needs (not the texts): each complaint's columns come once per clock
# event of its history in the joined rows.
_COLUMNS = (
    Complaint.id,
    Complaint.reference,
    Complaint.customer_name_enc,
    Complaint.email_enc,
    Complaint.phone_enc,
    Complaint.language,
    Complaint.preferred_channel,
    Complaint.tracking_token_enc,
    Complaint.team,
    Complaint.assignee,
    Complaint.priority,
    Complaint.received_at,
    Complaint.timezone,
    Complaint.status,
    Complaint.duplicate_of,
)


async def contact_cards(
    *,
    database: Database,
    secrets_: Secrets,
    complaint_ids: Sequence[str],
    public_base_url: str,
    organisation_timezone: str,
) -> ContactLookup:
    """Raw contacts of up to :data:`MAX_LOOKUP` complaints, for notifications about to be
    sent; the only other way they leave intake (see ``contact_card``).

    One statement: the complaints, outer-joined with their SLA clock events only (the
    promised times are folded from those, as for one complaint; no other history row is
    read), in history order per complaint."""
    wanted = list(dict.fromkeys(complaint_ids))
    if len(wanted) > MAX_LOOKUP:
        raise ValueError(f"at most {MAX_LOOKUP} complaints per lookup")  # the API bounds it
    known = [i for i in wanted if len(i) <= ID_LENGTH]
    rows: list[Any] = []
    if known:
        statement = (
            select(*_COLUMNS, HistoryEntry.event_type, HistoryEntry.data)
            .outerjoin(
                HistoryEntry,
                and_(
                    HistoryEntry.complaint_id == Complaint.id,
                    HistoryEntry.event_type.in_(sorted(CLOCK_TYPES)),
                ),
            )
            .where(Complaint.id.in_(known))
            .order_by(Complaint.id, HistoryEntry.occurred_at, HistoryEntry.id)
        )
        async with database.sessions() as session:
            rows = list(await session.execute(statement))
    complaints: dict[str, Any] = {}
    steps: dict[str, list[ClockStep]] = {}
    for row in rows:
        complaints.setdefault(row.id, row)
        if row.event_type is not None:
            steps.setdefault(row.id, []).append(ClockStep(row.event_type, row.data))
    found = tuple(
        contact_details(
            complaints[i],
            steps.get(i, []),
            secrets_=secrets_,
            public_base_url=public_base_url,
            organisation_timezone=organisation_timezone,
        )
        for i in wanted
        if i in complaints
    )
    return ContactLookup(found=found, not_found=tuple(i for i in wanted if i not in complaints))
