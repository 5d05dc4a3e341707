"""The use cases of SLA policies: list in order, create, change, reorder, delete, and the
development override of the default policies' targets.

The first enabled policy matching a complaint's priority (and optionally category, customer
tier, channel) gives its clocks their targets and calendar. A change that would leave some
priority without a policy matching every complaint of it is refused (``InvalidInput``,
naming it). Every change commits together with a config-version bump and a recompute job
for every open clock.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from complaint_runtime.database import Database, UnitOfWork, utcnow
from complaint_runtime.errors import Conflict, InvalidInput, NotFound

from sla_watch.calendars.db import CalendarRepository
from sla_watch.policies.db import PolicyRepository, SlaPolicy
from sla_watch.policies.domain.policy import InvalidPolicySetError, validate_policies
from sla_watch.recompute.service import queue_recompute

log = structlog.get_logger(__name__)

# Conditions of a policy: None matches any complaint.
NULLABLE_FIELDS = frozenset({"priority", "category", "tier", "channel"})


@dataclass(frozen=True)
class NewPolicy:
    """A policy to create; ``policy_id`` None: generated; ``position`` None: last."""

    name: str
    calendar_id: str
    first_response_s: int
    resolution_s: int
    policy_id: str | None = None
    priority: str | None = None
    category: str | None = None
    tier: str | None = None
    channel: str | None = None
    next_response_s: int | None = None  # None: the first-response target
    enabled: bool = True
    position: int | None = None


@dataclass(frozen=True)
class PolicyList:
    policies: Sequence[SlaPolicy]  # in matching order
    config_version: int


@dataclass(frozen=True)
class PolicyChange:
    policy: SlaPolicy | None  # as stored now; None after a delete or a reordering
    policies: list[SlaPolicy]  # every policy in order, after the change
    recompute_job_id: int


def _not_found(policy_id: str) -> NotFound:
    return NotFound(f"There is no policy {policy_id!r}.", title="No such policy")


async def _renumber_and_check(repository: PolicyRepository, rows: list[SlaPolicy]) -> None:
    """Positions 1..n in the order of ``rows``, then the whole set must be valid."""
    for position, row in enumerate(rows, start=1):
        if row.position != position:
            row.position = position
    calendar_ids = await CalendarRepository(repository.session).calendar_ids()
    try:
        validate_policies([r.policy() for r in rows], calendar_ids=calendar_ids)
    except InvalidPolicySetError as exc:
        raise InvalidInput(
            str(exc),
            title="Policy set refused",
            kind="invalid-policies",
            problems=list(exc.problems),
        ) from exc


_AUDITED_FIELDS = (
    "position",
    "name",
    "priority",
    "category",
    "tier",
    "channel",
    "calendar_id",
    "first_response_s",
    "next_response_s",
    "resolution_s",
    "enabled",
)


def policy_snapshot(row: SlaPolicy) -> dict[str, Any]:
    """A policy's settings as the audit log records them before and after a change."""
    return {name: getattr(row, name) for name in _AUDITED_FIELDS}


def _audit(
    uow: UnitOfWork, *, actor: str, action: str, policy_id: str, before: Any, after: Any
) -> None:
    uow.audit(
        actor=actor,
        action=f"sla_policy.{action}",
        object_type="sla_policy",
        object_id=policy_id,
        before=before,
        after=after,
    )


async def list_policies(*, database: Database) -> PolicyList:
    async with database.sessions() as session:
        policies = PolicyRepository(session)
        rows = await policies.policy_rows()
        version = await policies.version()
    return PolicyList(policies=rows, config_version=version)


async def create_policy(*, database: Database, policy: NewPolicy, actor: str) -> PolicyChange:
    """Insert the policy at its position (default last); Conflict when the id is taken."""
    async with database.unit_of_work() as uow:
        job = await queue_recompute(uow.session, reason="policy_changed", calendar_id=None)
        policies = PolicyRepository(uow.session)
        policy_id = policy.policy_id or f"policy-{uuid.uuid4().hex[:12]}"
        if await policies.policy_row(policy_id) is not None:
            raise Conflict(f"A policy {policy_id!r} exists already.", title="Policy exists")
        rows = list(await policies.policy_rows())
        row = SlaPolicy(
            policy_id=policy_id,
            position=0,
            name=policy.name,
            priority=policy.priority,
            category=policy.category,
            tier=policy.tier,
            channel=policy.channel,
            calendar_id=policy.calendar_id,
            first_response_s=policy.first_response_s,
            next_response_s=policy.next_response_s or policy.first_response_s,
            resolution_s=policy.resolution_s,
            enabled=policy.enabled,
            updated_at=utcnow(),
        )
        at = len(rows) if policy.position is None else min(policy.position - 1, len(rows))
        rows.insert(at, row)
        await _renumber_and_check(policies, rows)
        policies.add(row)
        await uow.session.flush()
        _audit(
            uow,
            actor=actor,
            action="created",
            policy_id=policy_id,
            before=None,
            after=policy_snapshot(row),
        )
    return PolicyChange(policy=row, policies=rows, recompute_job_id=job.id)


async def change_policy(
    *, database: Database, policy_id: str, changes: Mapping[str, Any], actor: str
) -> PolicyChange:
    """Set the fields in ``changes`` (None for priority/category/tier/channel means any;
    for any other field it is refused)."""
    async with database.unit_of_work() as uow:
        job = await queue_recompute(uow.session, reason="policy_changed", calendar_id=None)
        policies = PolicyRepository(uow.session)
        rows = list(await policies.policy_rows())
        row = next((r for r in rows if r.policy_id == policy_id), None)
        if row is None:
            raise _not_found(policy_id)
        before = policy_snapshot(row)
        for name, value in changes.items():
            if value is None and name not in NULLABLE_FIELDS:
                raise InvalidInput(
                    f"{name} cannot be null.",
                    errors=[{"in": "body", "field": name, "pointer": f"/{name}"}],
                )
            setattr(row, name, value)
        row.updated_at = utcnow()
        await _renumber_and_check(policies, rows)
        await uow.session.flush()
        _audit(
            uow,
            actor=actor,
            action="changed",
            policy_id=policy_id,
            before=before,
            after=policy_snapshot(row),
        )
    return PolicyChange(policy=row, policies=rows, recompute_job_id=job.id)


def _reordering_problem(existing: set[str], given: list[str]) -> str | None:
    """What keeps ``given`` from being a reordering of ``existing``; None when it is one."""
    if len(set(given)) == len(given) and set(given) == existing:
        return None
    missing = sorted(existing - set(given))
    unknown = sorted(set(given) - existing)
    twice = sorted({i for i in given if given.count(i) > 1})
    return (
        "Send every policy id exactly once"
        + (f"; missing: {', '.join(missing)}" if missing else "")
        + (f"; unknown: {', '.join(unknown)}" if unknown else "")
        + (f"; repeated: {', '.join(twice)}" if twice else "")
        + "."
    )


async def reorder_policies(
    *, database: Database, policy_ids: list[str], actor: str
) -> PolicyChange:
    """The policies in the order of ``policy_ids``, which must name each exactly once."""
    async with database.unit_of_work() as uow:
        job = await queue_recompute(uow.session, reason="policy_changed", calendar_id=None)
        policies = PolicyRepository(uow.session)
        by_id = {r.policy_id: r for r in await policies.policy_rows()}
        problem = _reordering_problem(set(by_id), policy_ids)
        if problem is not None:
            raise InvalidInput(problem, title="Not a reordering")
        rows = [by_id[i] for i in policy_ids]
        await _renumber_and_check(policies, rows)
        await uow.session.flush()
        _audit(
            uow,
            actor=actor,
            action="reordered",
            policy_id="*",
            before=list(by_id),
            after=policy_ids,
        )
    return PolicyChange(policy=None, policies=rows, recompute_job_id=job.id)


async def delete_policy(*, database: Database, policy_id: str, actor: str) -> PolicyChange:
    """Refused (InvalidInput) when a priority would be left unmatched."""
    async with database.unit_of_work() as uow:
        job = await queue_recompute(uow.session, reason="policy_changed", calendar_id=None)
        policies = PolicyRepository(uow.session)
        rows = list(await policies.policy_rows())
        row = next((r for r in rows if r.policy_id == policy_id), None)
        if row is None:
            raise _not_found(policy_id)
        before = policy_snapshot(row)
        rows.remove(row)
        await _renumber_and_check(policies, rows)
        await policies.delete(row)
        await uow.session.flush()
        _audit(uow, actor=actor, action="deleted", policy_id=policy_id, before=before, after=None)
    return PolicyChange(policy=None, policies=rows, recompute_job_id=job.id)


def _override_targets(
    row: SlaPolicy,
    priority: str,
    first_response: Mapping[str, int] | None,
    resolution: Mapping[str, int] | None,
) -> bool:
    """Set the row's targets that the overrides give for ``priority``; True if any changed."""
    before = (row.first_response_s, row.resolution_s)
    if first_response and priority in first_response:
        row.first_response_s = first_response[priority]
    if resolution and priority in resolution:
        row.resolution_s = resolution[priority]
    if (row.first_response_s, row.resolution_s) == before:
        return False
    row.updated_at = utcnow()
    return True


async def apply_target_overrides(
    *,
    database: Database,
    first_response: Mapping[str, int] | None,
    resolution: Mapping[str, int] | None,
) -> bool:
    """Development and test override (settings ``SLA_FIRST_RESPONSE_TARGETS_S`` /
    ``SLA_RESOLUTION_TARGETS_S``): set the targets of the ``default-Px`` policies at start.
    Returns whether anything changed (then the open clocks are recomputed)."""
    if not first_response and not resolution:
        return False
    async with database.unit_of_work() as uow:
        policies = PolicyRepository(uow.session)
        changed: list[str] = []
        for priority in sorted({*(first_response or {}), *(resolution or {})}):
            row = await policies.policy_row(f"default-{priority}")
            if row is None:
                log.warning("no default policy to override", priority=priority)
                continue
            before = policy_snapshot(row)
            if _override_targets(row, priority, first_response, resolution):
                changed.append(priority)
                _audit(
                    uow,
                    actor="sla-watch:settings",
                    action="changed",
                    policy_id=row.policy_id,
                    before=before,
                    after=policy_snapshot(row),
                )
        if not changed:
            return False
        validate_policies(await policies.policies())
        await queue_recompute(uow.session, reason="policy_changed", calendar_id=None)
        log.info("default policy targets overridden from settings", priorities=changed)
    return True
