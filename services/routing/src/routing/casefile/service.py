"""The agent's reads: one case file, and case lists (§ case file, case lists).

Both apply the same visibility rule (:mod:`routing.casefile.domain.visibility`): a case the
caller may not see is ``NotFound`` exactly like an unknown one, and a list only ever holds
visible cases. Refusals are domain errors: ``NotFound``, ``InvalidInput`` (a cursor that is
not this list's, a search of too many words).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from complaint_runtime.database import Database
from complaint_runtime.errors import InvalidInput, NotFound, field_error
from complaint_runtime.identity import Principal

from routing.casefile.db import CaseFile, CaseFileRepository, CaseMessage
from routing.casefile.domain.listing import (
    MAX_LIMIT,
    CaseFilters,
    ListPosition,
    decode_cursor,
    encode_cursor,
)
from routing.casefile.domain.search import SearchQuery, parse_query
from routing.casefile.domain.sla import ClockProjection, SlaSummary, seconds_until
from routing.casefile.domain.visibility import Visibility, visibility_of
from routing.cases.transitions import now_utc
from routing.db import Case, CaseAction, CaseRepository
from routing.duplicates.service import CaseLink, DuplicateLinks, customer_history, links_of
from routing.tasks.service import TaskView, tasks_of_case

MAX_MESSAGES = 500
MAX_ACTIONS = 1000
EARLIER_COMPLAINTS = 20
FOLLOW_UPS = 20
ME = "me"


@dataclass(frozen=True)
class CaseFileView:
    """Everything the case file shows, read in one transaction at ``now``."""

    case: Case
    actions: list[CaseAction]
    file: CaseFile | None  # None: a case stored before routing kept case files
    clocks: list[ClockProjection]
    sla: SlaSummary
    messages: list[CaseMessage]
    duplicates: DuplicateLinks
    earlier_complaints: list[CaseLink]
    tasks: list[TaskView]
    now: datetime
    related_complaint: CaseLink | None = None  # the complaint this one follows up
    follow_ups: tuple[CaseLink, ...] = ()  # the complaints that follow this one up


@dataclass(frozen=True)
class CaseRow:
    """One row of a case list."""

    case: Case
    subject: str | None
    sla_seconds_left: int | None
    # The highest warning percent of the running, not breached clock due first (the one
    # ``sla_due_at`` comes from); None: no warning on it, or no such clock.
    sla_warned_percent: int | None = None


@dataclass(frozen=True)
class CasePage:
    rows: list[CaseRow]
    next_cursor: str | None  # None: the last page


def _visibility(principal: Principal) -> Visibility:
    return visibility_of(roles=principal.roles, subject=principal.subject, team=principal.team)


async def view_case_file(
    *, database: Database, complaint_id: str, principal: Principal, now: datetime | None = None
) -> CaseFileView:
    """The whole case file; ``NotFound`` for an unknown case and for one the caller may not
    see (the same answer)."""
    now = now or now_utc()
    async with database.sessions() as session:
        cases = CaseRepository(session)
        case = await cases.get(complaint_id) if len(complaint_id) <= 36 else None
        if case is None or not _visibility(principal).admits(
            case_team=case.team, case_assignee=case.assignee
        ):
            raise NotFound(title="Case not found")
        files = CaseFileRepository(session)
        clocks = [row.projection() for row in await files.clocks(complaint_id)]
        file = await files.file(complaint_id)
        related = None
        if file is not None and file.related_complaint_id is not None:
            related = await cases.get(file.related_complaint_id)
        return CaseFileView(
            case=case,
            actions=await cases.actions(complaint_id, limit=MAX_ACTIONS),
            file=file,
            clocks=clocks,
            sla=SlaSummary.of(clocks),
            messages=await files.messages(complaint_id, limit=MAX_MESSAGES),
            duplicates=await links_of(session=session, case=case),
            earlier_complaints=await customer_history(
                session=session, case=case, limit=EARLIER_COMPLAINTS
            ),
            tasks=await tasks_of_case(session=session, complaint_id=complaint_id),
            now=now,
            related_complaint=CaseLink.of(related) if related is not None else None,
            follow_ups=tuple(
                CaseLink.of(c) for c in await files.follow_ups(complaint_id, limit=FOLLOW_UPS)
            ),
        )


async def list_cases(
    *,
    database: Database,
    principal: Principal,
    filters: CaseFilters,
    limit: int,
    cursor: str | None = None,
    now: datetime | None = None,
) -> CasePage:
    """One page of the visible cases matching ``filters``, by time to breach. ``cursor``:
    the ``next_cursor`` of the previous page (made for the same filters)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(
            f"limit must be between 1 and {MAX_LIMIT}.",
            errors=[field_error("limit", f"1..{MAX_LIMIT}", code="range", location="query")],
        )
    digest = filters.digest()
    after = decode_cursor(cursor, filters_digest=digest) if cursor is not None else None
    search: SearchQuery | None = parse_query(filters.query) if filters.query else None
    visibility = _visibility(principal)
    now = now or now_utc()
    if visibility.nothing:
        return CasePage([], None)
    assignees = [principal.subject if a == ME else a for a in filters.assignees]
    async with database.sessions() as session:
        found = await CaseFileRepository(session).list_cases(
            visibility=visibility,
            filters=filters,
            assignees=assignees,
            search=search,
            after=after,
            limit=limit + 1,  # one more tells whether there is a next page
        )
        page = found[:limit]
        # One query for the page, never one per row.
        warned = await CaseFileRepository(session).warned_percents(
            [case.complaint_id for case, _ in page]
        )
    rows = [
        CaseRow(
            case,
            subject,
            seconds_until(case.sla_due_at, now),
            sla_warned_percent=warned.get(case.complaint_id),
        )
        for case, subject in page
    ]
    last = page[-1][0] if page else None
    next_cursor = None
    if len(found) > limit and last is not None:
        position = ListPosition(last.sla_due_at, last.received_at, last.complaint_id)
        next_cursor = encode_cursor(position, filters_digest=digest)
    return CasePage(rows, next_cursor)
