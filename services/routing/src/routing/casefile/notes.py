"""Internal notes: what staff write on a case for each other, never for the customer.

A note joins the case's conversation as a message of kind ``note`` (the case file shows it
flagged internal, in time order with the rest) and the history as ``note_added``, in one
transaction. It is no event: nothing leaves routing, no customer is told, no clock moves.
It is not a change to the case either, so the case's version stays (a reply drafted
before a colleague's note is not stale); the note itself honours ``If-Match`` like every
command, so a note written on an old picture of the case is refused.

Who: any staff member who may see the case (:mod:`routing.casefile.domain.visibility`); a
case they may not see is ``NotFound`` like an unknown one. Contacts in the text are masked
like every staff text; the note is kept without its surrounding blanks, 1 to
:data:`MAX_NOTE` characters (``InvalidInput`` otherwise). An erasure blanks it with the
rest of the conversation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from complaint_runtime.database import Database
from complaint_runtime.errors import InvalidInput, field_error
from complaint_runtime.identity import Principal

from routing.casefile.recording import record_staff_message
from routing.cases.transitions import Actor, check_version, load_case, masked, now_utc, record

MAX_NOTE: Final = 5000
NOTE: Final = "note"


@dataclass(frozen=True)
class NoteView:
    id: int
    complaint_id: str
    author: str
    text: str
    at: datetime
    case_version: int  # the case's version, unchanged by the note


def _checked_text(text: str) -> str:
    stripped = text.strip()
    if not 1 <= len(stripped) <= MAX_NOTE:
        raise InvalidInput(
            f"A note has 1 to {MAX_NOTE} characters (blanks around it not counted).",
            errors=[field_error("text", f"1..{MAX_NOTE} characters", code="length")],
        )
    return stripped


async def add_note(
    *,
    database: Database,
    complaint_id: str,
    principal: Principal,
    text: str,
    expected_version: int | None = None,
) -> NoteView:
    """Add an internal note to a case the caller sees; refused when the case moved on from
    ``expected_version`` (``StaleCaseError``)."""
    body = masked(_checked_text(text)) or ""
    async with database.unit_of_work() as uow:
        case = await load_case(uow, complaint_id, seen_by=principal)
        await check_version(uow, case, expected_version)
        now = now_utc()
        message = record_staff_message(
            uow=uow, case=case, kind=NOTE, author=principal.subject, text=body, at=now
        )
        await uow.session.flush()  # the note's id, for the history entry
        record(
            uow,
            case,
            actor=Actor(principal.subject),
            action="note_added",
            from_status=case.status,
            to_status=case.status,
            event_id=None,
            detail={"note_id": message.id, "length": len(body)},
            at=now,
        )
        return NoteView(message.id, case.complaint_id, message.author, body, now, case.version)
