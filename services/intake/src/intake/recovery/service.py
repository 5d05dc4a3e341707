"""Lost-link recovery's use cases: ask for a code (the page), read it once (notify, just in
time, over the internal API), enter it (the page: a new link). The rules are in
:mod:`intake.recovery.domain`; the new link is the same token rotation as the tracking
page's "get a new link" (:func:`intake.complaints.links.replace_token`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import uuid_utils
from complaint_contracts.events import TrackingCodeRequested
from complaint_runtime.database import Database

from intake.complaints.domain.secret_keys import Secrets
from intake.complaints.links import replace_token
from intake.complaints.service import record_step
from intake.db import Complaint, ComplaintRepository
from intake.recovery.db import TrackingCode, TrackingCodeRepository
from intake.recovery.domain.codes import (
    MAX_ATTEMPTS,
    CodeState,
    Verdict,
    check_code,
    code_hash,
    code_matches,
    expires_at,
    new_code,
)
from intake.recovery.domain.errors import TrackingCodeGone
from intake.recovery.domain.requests import EnteredContact, contact_matches, flow_hash

# Expired requests are deleted a day later (kept that long for an operator's questions).
PURGE_AFTER: Final = timedelta(days=1)

__all__ = [
    "IssuedCode",
    "Recovered",
    "Refused",
    "read_code_once",
    "request_code",
    "verify_code",
]


@dataclass(frozen=True)
class Recovered:
    """The code was right: the complaint and its new token (the old link is dead)."""

    complaint_id: str
    token: str


@dataclass(frozen=True)
class Refused:
    """The code opened nothing: ``wrong`` (attempts left), ``exhausted`` or ``expired``
    (start again)."""

    verdict: Verdict
    attempts_left: int


@dataclass(frozen=True)
class IssuedCode:
    request_id: str
    code: str
    expires_at: datetime


def _matching(complaint: Complaint | None, contact: EnteredContact) -> Complaint | None:
    """The complaint when it was filed with the contact and has an e-mail address to send
    the code to (the one channel notify sends so far)."""
    if complaint is None or complaint.email_enc is None:
        return None
    if not contact_matches(
        contact, phone_hash=complaint.phone_hash, email_hash=complaint.email_hash
    ):
        return None
    return complaint


async def request_code(
    *,
    database: Database,
    secrets_: Secrets,
    flow: str,
    reference: str,
    contact: EnteredContact,
    now: datetime | None = None,
) -> None:
    """Record the browser's request: a code for the complaint when the reference and the
    contact match it (with ``complaint.tracking_code_requested`` for notify, in the same
    transaction), else a decoy. Either way the answer is the same: nothing."""
    now = now or datetime.now(UTC)
    request_id = str(uuid_utils.uuid7())
    async with database.unit_of_work() as uow:
        codes = TrackingCodeRepository(uow.session)
        await codes.delete_expired(before=now - PURGE_AFTER)
        found = await ComplaintRepository(uow.session).by_reference(reference)
        complaint = _matching(found, contact)
        row = TrackingCode(
            request_id=request_id,
            flow_hash=flow_hash(flow),
            created_at=now,
            expires_at=expires_at(now),
            attempts=0,
        )
        if complaint is not None:
            code = new_code()
            row.complaint_id = complaint.id
            row.code_hash = code_hash(secrets_.ref_key, request_id=request_id, code=code)
            row.code_enc = secrets_.encrypt(code)
            event = TrackingCodeRequested(
                complaint_id=complaint.id,
                request_id=request_id,
                channel="email",
                matched_on=contact.kind,
                requested_at=now,
                expires_at=row.expires_at,
            )
            data = {"request_id": request_id, "channel": "email", "matched_on": contact.kind}
            record_step(uow, event, complaint_id=complaint.id, now=now, data=data)
        codes.add(row)


async def verify_code(
    *,
    database: Database,
    secrets_: Secrets,
    flow: str,
    code: str,
    now: datetime | None = None,
) -> Recovered | Refused:
    """The browser's latest request against the entered ``code`` (6 digits, checked by
    the page): a wrong one spends an attempt; the right one consumes the code and gives the
    complaint a new token in the same transaction."""
    now = now or datetime.now(UTC)
    async with database.unit_of_work() as uow:
        row = await TrackingCodeRepository(uow.session).latest_of_flow(flow_hash(flow))
        if row is None:
            return Refused("expired", 0)
        matches = code_matches(
            secrets_.ref_key, request_id=row.request_id, stored_hash=row.code_hash, code=code
        )
        state = CodeState(row.expires_at, row.attempts, consumed=row.consumed_at is not None)
        check = check_code(state, matches=matches, now=now)
        if check.verdict != "accepted":
            if check.verdict in ("wrong", "exhausted") and row.attempts < MAX_ATTEMPTS:
                row.attempts += 1
            return Refused(check.verdict, check.attempts_left)
        complaint = await ComplaintRepository(uow.session).get_for_update(row.complaint_id or "")
        if complaint is None:
            return Refused("expired", 0)
        row.consumed_at = now
        row.code_enc = None
        token = replace_token(complaint, secrets_, now=now)
    return Recovered(complaint.id, token)


async def read_code_once(
    *,
    database: Database,
    secrets_: Secrets,
    complaint_id: str,
    request_id: str,
    now: datetime | None = None,
) -> IssuedCode:
    """The code of a request, for notify's message: readable once (its only readable
    copy is dropped in the same transaction) and only while it can still be entered.
    ``TrackingCodeGone`` otherwise."""
    now = now or datetime.now(UTC)
    async with database.unit_of_work() as uow:
        row = await TrackingCodeRepository(uow.session).get_for_update(request_id)
        if (
            row is None
            or row.complaint_id != complaint_id
            or row.code_enc is None
            or row.consumed_at is not None
            or row.attempts >= MAX_ATTEMPTS
            or now >= row.expires_at
        ):
            raise TrackingCodeGone()
        code = secrets_.decrypt(row.code_enc) or ""
        row.code_enc = None
        row.read_at = now
        return IssuedCode(row.request_id, code, row.expires_at)
