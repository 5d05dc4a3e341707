"""The agent's case file and case lists over HTTP.

``GET /v1/cases`` lists the cases the caller sees, filtered and sorted by time to breach,
one page at a time (keyset cursor); ``GET /v1/cases/{id}`` answers the whole case file
(its version also as ``ETag``). ``POST /v1/cases/{id}/notes`` adds an internal note.
Staff (agent, lead, manager), administrators and services read; staff write notes; what
each sees is :mod:`routing.casefile.domain.visibility` (a case the caller may not see is a
404 like an unknown one). Problems: 401/403 (no token, a role that reads no case), 404,
409 ``stale-case`` (a note with an old ``If-Match``), 422 ``validation`` (an unknown filter
value, ``limit`` outside 1..100, ``q`` over 200 characters or 12 words, a note that is
empty or over 5000 characters, a malformed ``If-Match``) or ``invalid-cursor``, 503.
"""

from __future__ import annotations

from typing import Annotated, Any

from complaint_contracts.vocabulary import Category, Channel, Priority, Status
from fastapi import APIRouter, Query, Response
from pydantic import StringConstraints

from routing.auth import ReaderDep, StaffDep
from routing.bootstrap import DependenciesDep
from routing.casefile import notes, service
from routing.casefile.domain.listing import (
    DEFAULT_LIMIT,
    MAX_CURSOR_LENGTH,
    MAX_LIMIT,
    CaseFilters,
    SlaFilter,
)
from routing.casefile.domain.search import MAX_QUERY_LENGTH
from routing.casefile.schemas import CaseFileOut, CaseListOut, NoteIn, NoteOut
from routing.cases.domain.versions import etag
from routing.cases.schemas import IfMatchDep

router = APIRouter(prefix="/v1/cases", tags=["cases"])

MAX_VALUES = 20  # values of one repeated filter


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {}}}


_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: _problem("No bearer token, or one that does not verify"),
    403: _problem("The token's roles read no case"),
    503: _problem("The database is unavailable; retry later"),
}
LIST_ERRORS: dict[int | str, dict[str, Any]] = {
    **_AUTH_ERRORS,
    422: _problem(
        "A filter value, limit, search or cursor that is not valid (validation, invalid-cursor)"
    ),
}
FILE_ERRORS: dict[int | str, dict[str, Any]] = {
    **_AUTH_ERRORS,
    404: _problem("No such case, or one the caller may not see (the same answer)"),
}
NOTE_ERRORS: dict[int | str, dict[str, Any]] = {
    **FILE_ERRORS,
    409: _problem("stale-case: the case changed since the version in If-Match"),
    413: _problem("The body is too large"),
    422: _problem("The note is empty or too long, or If-Match is malformed (validation)"),
}
AssigneeValue = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,100}$")]
TeamValue = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,59}$")]


def _values(description: str) -> Any:
    return Query(description=description, max_length=MAX_VALUES)


@router.get(
    "",
    response_model=CaseListOut,
    responses=LIST_ERRORS,
    summary="The caller's visible cases, filtered, by time to breach, a page at a time",
)
async def list_cases(
    deps: DependenciesDep,
    caller: ReaderDep,
    assignee: Annotated[
        list[AssigneeValue] | None, _values("Assignee user id, or `me` for the caller")
    ] = None,
    team: Annotated[list[TeamValue] | None, _values("Team code")] = None,
    status: Annotated[list[Status] | None, _values("Case status")] = None,
    priority: Annotated[list[Priority] | None, _values("Priority P1..P4")] = None,
    sla: Annotated[
        list[SlaFilter] | None,
        _values(
            "at_risk: a running clock passed a warning threshold and is not breached; "
            "breached: some clock breached"
        ),
    ] = None,
    channel: Annotated[list[Channel] | None, _values("Channel the complaint came in on")] = None,
    category: Annotated[list[Category] | None, _values("Category")] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=MAX_QUERY_LENGTH,
            description=(
                "Search: every word must be in the case's reference, order reference, "
                "subject or description (Chinese words by jieba segmentation, English "
                "words case-insensitive); or the whole query is its reference, order "
                "reference or customer reference"
            ),
        ),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"Page size, 1..{MAX_LIMIT}")
    ] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(
            max_length=MAX_CURSOR_LENGTH,
            description="The `next` of the previous page (with the same filters)",
        ),
    ] = None,
) -> CaseListOut:
    filters = CaseFilters(
        assignees=tuple(assignee or ()),
        teams=tuple(team or ()),
        statuses=tuple(status or ()),
        priorities=tuple(priority or ()),
        sla=tuple(sla or ()),
        channels=tuple(channel or ()),
        categories=tuple(category or ()),
        query=q,
    )
    page = await service.list_cases(
        database=deps.database, principal=caller, filters=filters, limit=limit, cursor=cursor
    )
    return CaseListOut.of(page)


@router.get(
    "/{complaint_id}",
    response_model=CaseFileOut,
    responses=FILE_ERRORS,
    summary=(
        "The case file: customer, texts, triage, owner and assignee, SLA clocks, duplicates, "
        "conversation, the customer's earlier complaints, history and resolution"
    ),
)
async def get_case(
    complaint_id: str, deps: DependenciesDep, caller: ReaderDep, response: Response
) -> CaseFileOut:
    view = await service.view_case_file(
        database=deps.database, complaint_id=complaint_id, principal=caller
    )
    response.headers["ETag"] = etag(view.case.version)
    return CaseFileOut.of_file(view)


@router.post(
    "/{complaint_id}/notes",
    status_code=201,
    response_model=NoteOut,
    responses=NOTE_ERRORS,
    summary="Add an internal note (staff only, never sent; the case's version stays)",
)
async def add_note(
    complaint_id: str, body: NoteIn, deps: DependenciesDep, caller: StaffDep, expected: IfMatchDep
) -> NoteOut:
    view = await notes.add_note(
        database=deps.database,
        complaint_id=complaint_id,
        principal=caller,
        text=body.text,
        expected_version=expected,
    )
    return NoteOut.of(view)
