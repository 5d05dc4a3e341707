"""Admin API of SLA policies: list in order, create, change, reorder, delete.

The first enabled policy matching a complaint's priority (and optionally category, customer
tier, channel) gives its clocks their targets and calendar. A change that would leave some
priority without a policy matching every complaint of it is refused (422, naming it). Every
change commits together with a config-version bump and a recompute job for every open clock.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from complaint_contracts.vocabulary import Category, Channel, Priority, Tier
from complaint_runtime.database import utcnow
from complaint_runtime.problems import Problem
from complaint_runtime.service import runtime_of
from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from sla_watch.api.recomputations import AdminReader, AdminWriter
from sla_watch.domain.policy import MAX_TARGET_S, InvalidPolicySetError, validate_policies
from sla_watch.setup_cache import record_change
from sla_watch.setup_db import ConfigRepository, SlaPolicy

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
    name: str = Field(min_length=1, max_length=200)
    priority: Priority | None = Field(None, description=_MATCH_DOC)
    category: Category | None = Field(None, description=_MATCH_DOC)
    tier: Tier | None = Field(None, description=_MATCH_DOC)
    channel: Channel | None = Field(None, description=_MATCH_DOC)
    calendar_id: str = Field(min_length=1, max_length=60)
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

    name: str | None = Field(None, min_length=1, max_length=200)
    priority: Priority | None = None
    category: Category | None = None
    tier: Tier | None = None
    channel: Channel | None = None
    calendar_id: str | None = Field(None, min_length=1, max_length=60)
    first_response_s: Seconds | None = None
    next_response_s: Seconds | None = None
    resolution_s: Seconds | None = None
    enabled: bool | None = None


class PolicyOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    policy_ids: list[Annotated[str, Field(max_length=60)]] = Field(
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


def _not_found(policy_id: str) -> Problem:
    return Problem(404, "No such policy", f"There is no policy {policy_id!r}.", kind="not-found")


async def _renumber_and_check(session: AsyncSession, rows: list[SlaPolicy]) -> None:
    """Positions 1..n in the order of ``rows``, then the whole set must be valid."""
    for position, row in enumerate(rows, start=1):
        if row.position != position:
            row.position = position
    config = ConfigRepository(session)
    try:
        validate_policies([r.policy() for r in rows], calendar_ids=await config.calendar_ids())
    except InvalidPolicySetError as exc:
        raise Problem(
            422,
            "Policy set refused",
            str(exc),
            kind="invalid-policies",
            problems=list(exc.problems),
        ) from exc


async def _answer(
    session: AsyncSession, rows: list[SlaPolicy], changed: SlaPolicy | None, job_id: int
) -> PolicyChangeOut:
    await session.flush()
    return PolicyChangeOut(
        policy=None if changed is None else policy_out(changed),
        policies=[policy_out(r) for r in rows],
        recompute_job_id=job_id,
    )


@router.get("", response_model=PoliciesOut, summary="The policies, in matching order")
async def list_policies(request: Request, _principal: AdminReader) -> PoliciesOut:
    async with runtime_of(request).database.sessions() as session:
        config = ConfigRepository(session)
        rows = await config.policy_rows()
        version = await config.version()
    return PoliciesOut(policies=[policy_out(r) for r in rows], config_version=version)


@router.post(
    "",
    response_model=PolicyChangeOut,
    status_code=201,
    summary="Create a policy (at a position, default last)",
    responses={409: {"description": "The id is taken"}, 422: {"description": "Invalid"}},
)
async def create_policy(
    body: PolicyIn, request: Request, _principal: AdminWriter
) -> PolicyChangeOut:
    async with runtime_of(request).database.unit_of_work() as uow:
        job = await record_change(uow.session, reason="policy_changed", calendar_id=None)
        config = ConfigRepository(uow.session)
        policy_id = body.policy_id or f"policy-{uuid.uuid4().hex[:12]}"
        if await config.policy_row(policy_id) is not None:
            raise Problem(
                409, "Policy exists", f"A policy {policy_id!r} exists already.", kind="conflict"
            )
        rows = list(await config.policy_rows())
        row = SlaPolicy(
            policy_id=policy_id,
            position=0,
            name=body.name,
            priority=body.priority,
            category=body.category,
            tier=body.tier,
            channel=body.channel,
            calendar_id=body.calendar_id,
            first_response_s=body.first_response_s,
            next_response_s=body.next_response_s or body.first_response_s,
            resolution_s=body.resolution_s,
            enabled=body.enabled,
            updated_at=utcnow(),
        )
        at = len(rows) if body.position is None else min(body.position - 1, len(rows))
        rows.insert(at, row)
        await _renumber_and_check(uow.session, rows)
        uow.session.add(row)
        answer = await _answer(uow.session, rows, row, job.id)
    return answer


@router.patch(
    "/{policy_id}",
    response_model=PolicyChangeOut,
    summary="Change a policy (null for priority/category/tier/channel means any)",
    responses={404: {"description": "No such policy"}, 422: {"description": "Invalid"}},
)
async def patch_policy(
    policy_id: PolicyId, body: PolicyPatch, request: Request, _principal: AdminWriter
) -> PolicyChangeOut:
    async with runtime_of(request).database.unit_of_work() as uow:
        job = await record_change(uow.session, reason="policy_changed", calendar_id=None)
        rows = list(await ConfigRepository(uow.session).policy_rows())
        row = next((r for r in rows if r.policy_id == policy_id), None)
        if row is None:
            raise _not_found(policy_id)
        nullable = {"priority", "category", "tier", "channel"}
        for name in body.model_fields_set:
            value = getattr(body, name)
            if value is None and name not in nullable:
                raise Problem(
                    422,
                    "Invalid request",
                    f"{name} cannot be null.",
                    kind="validation",
                    errors=[{"in": "body", "field": name, "pointer": f"/{name}"}],
                )
            setattr(row, name, value)
        row.updated_at = utcnow()
        await _renumber_and_check(uow.session, rows)
        answer = await _answer(uow.session, rows, row, job.id)
    return answer


@router.put(
    "/order",
    response_model=PolicyChangeOut,
    summary="Reorder the policies (send every id, first match first)",
    responses={422: {"description": "Not exactly the existing ids"}},
)
async def reorder_policies(
    body: PolicyOrder, request: Request, _principal: AdminWriter
) -> PolicyChangeOut:
    async with runtime_of(request).database.unit_of_work() as uow:
        job = await record_change(uow.session, reason="policy_changed", calendar_id=None)
        by_id = {r.policy_id: r for r in await ConfigRepository(uow.session).policy_rows()}
        given = body.policy_ids
        if len(set(given)) != len(given) or set(given) != set(by_id):
            missing = sorted(set(by_id) - set(given))
            unknown = sorted(set(given) - set(by_id))
            twice = sorted({i for i in given if given.count(i) > 1})
            raise Problem(
                422,
                "Not a reordering",
                "Send every policy id exactly once"
                + (f"; missing: {', '.join(missing)}" if missing else "")
                + (f"; unknown: {', '.join(unknown)}" if unknown else "")
                + (f"; repeated: {', '.join(twice)}" if twice else "")
                + ".",
                kind="validation",
            )
        rows = [by_id[i] for i in given]
        await _renumber_and_check(uow.session, rows)
        answer = await _answer(uow.session, rows, None, job.id)
    return answer


@router.delete(
    "/{policy_id}",
    response_model=PolicyChangeOut,
    summary="Delete a policy (refused when a priority would be left unmatched)",
    responses={404: {"description": "No such policy"}, 422: {"description": "Refused"}},
)
async def delete_policy(
    policy_id: PolicyId, request: Request, _principal: AdminWriter
) -> PolicyChangeOut:
    async with runtime_of(request).database.unit_of_work() as uow:
        job = await record_change(uow.session, reason="policy_changed", calendar_id=None)
        rows = list(await ConfigRepository(uow.session).policy_rows())
        row = next((r for r in rows if r.policy_id == policy_id), None)
        if row is None:
            raise _not_found(policy_id)
        rows.remove(row)
        await _renumber_and_check(uow.session, rows)
        await uow.session.delete(row)
        answer = await _answer(uow.session, rows, None, job.id)
    return answer
