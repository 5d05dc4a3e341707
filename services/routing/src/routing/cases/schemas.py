"""Bodies and answers of routing's case API (bounded like every input), and the
``If-Match`` precondition every staff command on a case takes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from complaint_contracts.vocabulary import Category, PreferredChannel, Priority, SolutionType
from fastapi import Depends, Header, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from routing.cases.domain.versions import IF_MATCH, etag, parse_if_match
from routing.cases.escalation import EscalationRequest
from routing.cases.service import CaseView

TEXT = 2000
REASON = 500
USER_ID = r"^[A-Za-z0-9._:-]{1,100}$"  # ids, never contacts: no '@', no spaces


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# A coroutine: FastAPI runs a plain function dependency in a worker thread.
async def if_match(
    value: Annotated[
        str | None,
        Header(
            alias=IF_MATCH,
            max_length=100,
            description=(
                'Optional: the case version the request was decided on, e.g. `"7"` (the '
                "case's `version`, or the `ETag` of its last answer; `*` or no header: no "
                "check). A case that changed since is refused with 409 `stale-case` "
                "(`current_version`, and the history entries written since in `changes`) "
                "and nothing is changed; a malformed value is a 422."
            ),
        ),
    ] = None,
) -> int | None:
    return parse_if_match(value)


IfMatchDep = Annotated[int | None, Depends(if_match)]


def with_etag(response: Response, view: CaseView) -> CaseOut:
    """The case answer, its version also as the ``ETag`` header (``If-Match`` sends it back)."""
    response.headers["ETag"] = etag(view.case.version)
    return CaseOut.of(view)


class FirstResponseIn(_In):
    message: str | None = Field(
        None,
        min_length=1,
        max_length=TEXT,
        description="What the customer was told (omitted: not recorded; never empty)",
    )
    channel: PreferredChannel | None = None


class ReplyIn(_In):
    message: str | None = Field(
        None, min_length=1, max_length=TEXT, description="Omitted: not recorded; never empty"
    )
    in_reply_to: str | None = Field(
        None, pattern=USER_ID, max_length=200, description="message_id of the customer message"
    )
    channel: PreferredChannel | None = None


class AwaitingCustomerIn(_In):
    reason: str = Field(min_length=1, max_length=REASON, description="What the customer was asked")


class ResolveIn(_In):
    """All optional in the schema so that the closure guard, not generic validation,
    answers a resolve without solution, type or root cause (one error per missing field)."""

    solution_summary: str | None = Field(None, max_length=TEXT)
    solution_type: SolutionType | None = None
    root_cause: str | None = Field(None, max_length=TEXT)
    preventive_measure: str | None = Field(None, max_length=TEXT)


class ReassignIn(_In):
    assignee: str | None = Field(
        None, pattern=USER_ID, description="The agent's user id; omitted: least-loaded free agent"
    )
    team: str | None = Field(
        None,
        pattern=r"^[a-z0-9][a-z0-9-]{0,59}$",
        description="The new team (a team code such as 'billing'); omitted: the same team",
    )
    reason: str = Field(min_length=1, max_length=REASON)


class RecategorizeIn(_In):
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


class EscalateIn(_In):
    level: Literal[1, 2, 3] = Field(
        description="The level asked for: 1 team lead, 2 manager, 3 senior escalation group"
    )
    reason: str = Field(
        min_length=1,
        max_length=TEXT,
        description="Why (kept in the history, sent to whoever is told; contacts masked)",
    )


class EscalationRequestOut(BaseModel):
    """The request as staged: the level changes when sla-watch's ``complaint.escalated``
    comes back (the case's ``escalation_level`` and an ``escalated`` history entry)."""

    complaint_id: str
    level: int = Field(description="The level asked for")
    current_level: int = Field(description="The case's level when the request was made")
    reason: str = Field(description="The reason as kept and sent, contacts masked")
    actor: str = Field(description="Who asked (user id)")
    requested_at: datetime
    event_id: str = Field(description="The id of the `complaint.escalation_requested` event")
    version: int = Field(description="The case's version after the request (also the `ETag`)")

    @classmethod
    def of(cls, request: EscalationRequest) -> EscalationRequestOut:
        return cls(
            complaint_id=request.complaint_id,
            level=request.level,
            current_level=request.current_level,
            reason=request.reason,
            actor=request.actor,
            requested_at=request.requested_at,
            event_id=request.event_id,
            version=request.case_version,
        )


class ActionOut(BaseModel):
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    event_id: str | None
    detail: dict[str, Any]
    at: datetime


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
    owner: str | None
    rules_fired: list[dict[str, Any]]
    received_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    solution_summary: str | None
    solution_type: str | None
    root_cause: str | None
    preventive_measure: str | None
    resolved_at: datetime | None
    closed_at: datetime | None
    close_reason: str | None
    reopen_count: int
    escalation_level: int = Field(
        description="0 agent, 1 team lead, 2 manager, 3 senior escalation group (set by sla-watch)"
    )
    version: int = Field(
        description=(
            "One more with every change to the case (not with notes, tasks or SLA clocks); "
            "send it back as `If-Match` so that a command made on an older version is refused"
        )
    )
    actions: list[ActionOut] = Field(description="The case's history, oldest first")

    @classmethod
    def of(cls, view: CaseView) -> CaseOut:
        fields = {name: getattr(view.case, name) for name in cls.model_fields if name != "actions"}
        actions = [ActionOut.model_validate(a, from_attributes=True) for a in view.actions]
        return cls(**fields, actions=actions)
