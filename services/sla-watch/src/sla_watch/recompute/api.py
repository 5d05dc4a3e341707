"""Admin API of recompute jobs: the latest ones, and the progress of one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from sla_watch.bootstrap import AdminReader, DependenciesDep
from sla_watch.recompute import service
from sla_watch.recompute.db import RecomputeJob

router = APIRouter(prefix="/v1/admin/recomputations", tags=["admin: recomputations"])


class RecomputeJobOut(BaseModel):
    id: int
    reason: Literal["policy_changed", "calendar_changed"]
    calendar_id: str | None = Field(
        description="The calendar whose clocks are recomputed; null: every open clock"
    )
    state: Literal["pending", "running", "done", "failed"]
    clocks_seen: int = Field(description="Open clocks looked at so far")
    clocks_moved: int = Field(description="Open clocks whose deadline moved")
    config_version: int = Field(description="Configuration version the change produced")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None

    @classmethod
    def of(cls, job: RecomputeJob) -> RecomputeJobOut:
        return cls(
            id=job.id,
            reason=job.reason,
            calendar_id=job.calendar_id,
            state=job.state,
            clocks_seen=job.clocks_seen,
            clocks_moved=job.clocks_moved,
            config_version=job.config_version,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            error=job.error,
        )


class RecomputeJobsOut(BaseModel):
    jobs: list[RecomputeJobOut]


@router.get("", response_model=RecomputeJobsOut, summary="The latest recompute jobs")
async def list_jobs(
    deps: DependenciesDep,
    _principal: AdminReader,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> RecomputeJobsOut:
    jobs = await service.recent_jobs(database=deps.database, limit=limit)
    return RecomputeJobsOut(jobs=[RecomputeJobOut.of(j) for j in jobs])


@router.get(
    "/{job_id}",
    response_model=RecomputeJobOut,
    summary="Progress of the recompute job a policy or calendar change started",
    responses={404: {"description": "No such job"}},
)
async def get_job(
    job_id: Annotated[int, Path(ge=1, le=2**62)], deps: DependenciesDep, _principal: AdminReader
) -> RecomputeJobOut:
    return RecomputeJobOut.of(await service.job_of(database=deps.database, job_id=job_id))
