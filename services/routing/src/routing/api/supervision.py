"""A supervisor's correction of a case's triage: category, sub-category and priority.

401/403 (auth: agents are refused), 404 (unknown case), 409 ``illegal-transition`` (a case
not triaged yet, or closed) or ``no-change``, 422 ``validation`` (unknown category or
priority, no change asked for, missing reason).
"""

from __future__ import annotations

from typing import Any

from complaint_contracts.vocabulary import Category, Priority
from complaint_runtime.service import runtime_of
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from routing import supervision
from routing.api.auth import LeadDep
from routing.api.schemas import REASON, CaseOut

router = APIRouter(prefix="/v1/cases", tags=["cases"])

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
ERRORS: dict[int | str, dict[str, Any]] = dict.fromkeys(
    (400, 401, 403, 404, 409, 413, 422, 503), PROBLEM
)


class RecategorizeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category: Category | None = Field(None, description="The corrected category")
    subcategory: str | None = Field(
        None,
        pattern=r"^[a-z0-9][a-z0-9_]{0,59}$",
        description="The corrected sub-category; omitted with a new category: cleared",
    )
    priority: Priority | None = Field(
        None, description="The decided priority; P1 only ever by such a supervisor decision"
    )
    reason: str = Field(min_length=1, max_length=REASON, description="Why (kept in the record)")

    @model_validator(mode="after")
    def _something_to_change(self) -> RecategorizeIn:
        if self.category is None and self.subcategory is None and self.priority is None:
            raise ValueError("give at least one of category, subcategory, priority")
        return self


@router.post(
    "/{complaint_id}/recategorize",
    response_model=CaseOut,
    responses=ERRORS,
    summary="Correct category, sub-category or priority (lead of the team or manager)",
)
async def recategorize(
    complaint_id: str, request: Request, caller: LeadDep, body: RecategorizeIn
) -> CaseOut:
    view = await supervision.recategorize(
        database=runtime_of(request).database,
        complaint_id=complaint_id,
        principal=caller,
        reason=body.reason,
        category=body.category,
        subcategory=body.subcategory,
        priority=body.priority,
    )
    return CaseOut.of(view)
