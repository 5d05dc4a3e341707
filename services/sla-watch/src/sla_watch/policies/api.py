"""Admin API of SLA policies: list in order, create, change, reorder, delete (the rules of
a change are in :mod:`sla_watch.policies.service`: a change that would leave some priority
without a policy matching every complaint of it is refused, 422 naming it)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from complaint_contracts.vocabulary import Category, Channel, Priority, Tier
from complaint_runtime.text import SingleLine
from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from sla_watch.bootstrap import AdminReader, AdminWriter, DependenciesDep
from sla_watch.policies import service
from sla_watch.policies.db import SlaPolicy
from sla_watch.policies.domain.policy import MAX_TARGET_S
from sla_watch.policies.service import NewPolicy, PolicyChange

router = APIRouter(prefix="/v1/admin/policies", tags=["admin: policies"])

POLICY_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$"
PolicyId = Annotated[str, Path(pattern=POLICY_ID_PATTERN, max_length=60)]
Seconds = Annotated[int, Field(gt=0, le=MAX_TARGET_S)]
_MATCH_DOC = "null matches any"


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    policy_id: str | None = Field(
        None, pattern=POLICY_ID_PATTERN, max_length=60, description="Generated when left out"
    )
    name: Annotated[str, SingleLine] = Field(min_length=1, max_length=200)
    priority: Priority | None = Field(None, description=_MATCH_DOC)
    category: Category | None = Field(None, description=_MATCH_DOC)
    tier: Tier | None = Field(None, description=_MATCH_DOC)
    channel: Channel | None = Field(None, description=_MATCH_DOC)
    calendar_id: Annotated[str, SingleLine] = Field(min_length=1, max_length=60)
    first_response_s: Seconds = Field(description="Business seconds to the first response")
    next_response_s: Seconds | None = Field(
        None, description="Business seconds to answer a customer message; default first_response_s"
    )
    resolution_s: Seconds = Field(description="Business seconds to resolution")
    enabled: bool = True
    position: int | None = Field(
        None, ge=1, le=10_000, description="1 = first; default: after the others"
    )


class PolicyPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, SingleLine] | None = Field(None, min_length=1, max_length=200)
    priority: Priority | None = None
    category: Category | None = None
    tier: Tier | None = None
    channel: Channel | None = None
    calendar_id: Annotated[str, SingleLine] | None = Field(None, min_length=1, max_length=60)
    first_response_s: Seconds | None = None
    next_response_s: Seconds | None = None
    resolution_s: Seconds | None = None
    enabled: bool | None = None


class PolicyOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    policy_ids: list[Annotated[str, Field(max_length=60), SingleLine]] = Field(
        min_length=1, max_length=10_000, description="Every policy id, in the new order"
    )


class PolicyOut(BaseModel):
    policy_id: str
    position: int
    name: str
    priority: str | None
    category: str | None
    tier: str | None
    channel: str | None
    calendar_id: str
    first_response_s: int
    next_response_s: int
    resolution_s: int
    enabled: bool
    updated_at: datetime


class PoliciesOut(BaseModel):
    policies: list[PolicyOut] = Field(description="In matching order: the first match wins")
    config_version: int


class PolicyChangeOut(BaseModel):
    policy: PolicyOut | None = Field(description="The policy as stored now; null after delete")
    policies: list[PolicyOut] = Field(description="Every policy in order, after the change")
    recompute_job_id: int = Field(description="The job recomputing every open clock")


def policy_out(row: SlaPolicy) -> PolicyOut:
    return PolicyOut(
        policy_id=row.policy_id,
        position=row.position,
        name=row.name,
        priority=row.priority,
        category=row.category,
        tier=row.tier,
        channel=row.channel,
        calendar_id=row.calendar_id,
        first_response_s=row.first_response_s,
        next_response_s=row.next_response_s,
        resolution_s=row.resolution_s,
        enabled=row.enabled,
        updated_at=row.updated_at,
    )


def change_out(change: PolicyChange) -> PolicyChangeOut:
    return PolicyChangeOut(
        policy=None if change.policy is None else policy_out(change.policy),
        policies=[policy_out(r) for r in change.policies],
        recompute_job_id=change.recompute_job_id,
    )


@router.get("", response_model=PoliciesOut, summary="The policies, in matching order")
async def list_policies(deps: DependenciesDep, _principal: AdminReader) -> PoliciesOut:
    found = await service.list_policies(database=deps.database)
    return PoliciesOut(
        policies=[policy_out(r) for r in found.policies], config_version=found.config_version
    )


@router.post(
    "",
    response_model=PolicyChangeOut,
    status_code=201,
    summary="Create a policy (at a position, default last)",
    responses={409: {"description": "The id is taken"}, 422: {"description": "Invalid"}},
)
async def create_policy(
    body: PolicyIn, deps: DependenciesDep, principal: AdminWriter
) -> PolicyChangeOut:
    policy = NewPolicy(**body.model_dump())
    return change_out(
        await service.create_policy(database=deps.database, policy=policy, actor=principal.subject)
    )


@router.patch(
    "/{policy_id}",
    response_model=PolicyChangeOut,
    summary="Change a policy (null for priority/category/tier/channel means any)",
    responses={404: {"description": "No such policy"}, 422: {"description": "Invalid"}},
)
async def patch_policy(
    policy_id: PolicyId, body: PolicyPatch, deps: DependenciesDep, principal: AdminWriter
) -> PolicyChangeOut:
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    return change_out(
        await service.change_policy(
            database=deps.database,
            policy_id=policy_id,
            changes=changes,
            actor=principal.subject,
        )
    )


@router.put(
    "/order",
    response_model=PolicyChangeOut,
    summary="Reorder the policies (send every id, first match first)",
    responses={422: {"description": "Not exactly the existing ids"}},
)
async def reorder_policies(
    body: PolicyOrder, deps: DependenciesDep, principal: AdminWriter
) -> PolicyChangeOut:
    return change_out(
        await service.reorder_policies(
            database=deps.database, policy_ids=body.policy_ids, actor=principal.subject
        )
    )


@router.delete(
    "/{policy_id}",
    response_model=PolicyChangeOut,
    summary="Delete a policy (refused when a priority would be left unmatched)",
    responses={404: {"description": "No such policy"}, 422: {"description": "Refused"}},
)
async def delete_policy(
    policy_id: PolicyId, deps: DependenciesDep, principal: AdminWriter
) -> PolicyChangeOut:
    return change_out(
        await service.delete_policy(
            database=deps.database, policy_id=policy_id, actor=principal.subject
        )
    )
