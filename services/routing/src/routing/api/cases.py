"""Read access to routing's cases (the triage decision with the rules that fired)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from complaint_runtime.problems import Problem
from complaint_runtime.service import runtime_of
from fastapi import APIRouter, Request
from pydantic import BaseModel

from routing.db import CaseRepository

router = APIRouter(prefix="/v1/cases", tags=["cases"])


class CaseOut(BaseModel):
    complaint_id: str
    reference: str
    status: str
    category: str
    subcategory: str | None
    confidence: float
    priority: str
    emotion: str
    team: str | None
    assignee: str | None
    rules_fired: list[dict[str, Any]]
    received_at: datetime
    updated_at: datetime


@router.get("/{complaint_id}", response_model=CaseOut, summary="A case and its triage")
async def get_case(complaint_id: str, request: Request) -> CaseOut:
    async with runtime_of(request).database.sessions() as session:
        case = await CaseRepository(session).get(complaint_id)
    if case is None:
        raise Problem(404, "Case not found", kind="not-found")
    return CaseOut.model_validate(case, from_attributes=True)
