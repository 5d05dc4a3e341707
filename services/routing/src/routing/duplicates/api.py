"""Linking and unlinking duplicates by hand over HTTP (§4).

``POST /v1/cases/{id}/duplicate-of`` merges the case into the open case ``original_id``
(the copy closes as a duplicate); ``POST /v1/cases/{id}/duplicate-of/unlink`` makes a
linked copy a complaint of its own again (a copy routing held back is triaged and
assigned). A POST with a JSON body rather than a DELETE: the reason is free text, which
neither belongs in a URL (access logs) nor travels reliably in a DELETE's body.

Agents and leads of the case's team and managers; both take ``If-Match`` with the case's
version and answer the case with its history (its version also as ``ETag``). Problems:
401/403, 404 (a case or original the caller may not see, the same answer as an unknown
one), 409 ``duplicate-link-refused`` / ``duplicate-unlink-refused`` (with ``reason``: which
rule) or ``stale-case``, 422 ``validation`` (reason empty or over 2000 characters).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from routing.auth import StaffDep
from routing.bootstrap import DependenciesDep
from routing.cases.schemas import CaseOut, IfMatchDep, with_etag
from routing.duplicates import manual
from routing.duplicates.schemas import DuplicateOfIn, UnlinkIn

router = APIRouter(prefix="/v1/cases", tags=["duplicates"])

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
ERRORS: dict[int | str, dict[str, Any]] = dict.fromkeys(
    (400, 401, 403, 404, 409, 413, 422, 503), PROBLEM
)


@router.post(
    "/{complaint_id}/duplicate-of",
    response_model=CaseOut,
    responses=ERRORS,
    summary="Merge the case into another open case: linked as its duplicate and closed",
)
async def link(
    complaint_id: str,
    deps: DependenciesDep,
    caller: StaffDep,
    expected: IfMatchDep,
    response: Response,
    body: DuplicateOfIn,
) -> CaseOut:
    view = await manual.link_by_hand(
        database=deps.database,
        complaint_id=complaint_id,
        original_id=body.original_id,
        principal=caller,
        reason=body.reason,
        expected_version=expected,
    )
    return with_etag(response, view)


@router.post(
    "/{complaint_id}/duplicate-of/unlink",
    response_model=CaseOut,
    responses=ERRORS,
    summary="Unlink a duplicate that is still open: triaged and assigned as its own case",
)
async def unlink(
    complaint_id: str,
    deps: DependenciesDep,
    caller: StaffDep,
    expected: IfMatchDep,
    response: Response,
    body: UnlinkIn,
) -> CaseOut:
    view = await manual.unlink_by_hand(
        database=deps.database,
        complaint_id=complaint_id,
        principal=caller,
        reason=body.reason,
        classifiers=deps.classifiers,
        duplicate_policy=deps.duplicate_policy,
        streak_length=deps.streak_length,
        expected_version=expected,
    )
    return with_etag(response, view)
