"""The auditor's API, the same on every service (§10: one API reads every chain): the
service's audit links in order, and a verification of its chain. Role ``auditor`` only;
the chain holds ids and actions, no personal data."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from complaint_runtime.audit import links_after, verify_chain
from complaint_runtime.auth import Principal, require_roles
from complaint_runtime.database import Database

MAX_LINKS = 500
Auditor = Annotated[Principal, Depends(require_roles("auditor"))]


class AuditLinkOut(BaseModel):
    seq: int
    committed_at: datetime
    entries: list[dict[str, Any]] = Field(
        description="Who (actor) did what (action) to which object (object_type, object_id), "
        "when (at), from where (origin); before/after for a change of configuration; "
        "event_id for an emitted event"
    )
    prev_hash: str
    hash: str


class AuditLinksOut(BaseModel):
    service: str
    links: list[AuditLinkOut]
    next_after_seq: int | None = Field(description="Pass as after_seq for the next page")


class ChainReportOut(BaseModel):
    service: str
    ok: bool
    links: int
    entries: int
    head_seq: int | None = Field(description="The last link: keep it to detect truncation")
    head_hash: str
    broken_at: int | None = Field(description="The first link that does not hold")
    problem: str | None


def _database(request: Request) -> Database:
    database: Database = request.app.state.runtime.database
    return database


def _service(request: Request) -> str:
    return str(request.app.state.runtime.settings.service_name)


def audit_router() -> APIRouter:
    router = APIRouter(prefix="/v1/audit", tags=["audit"])

    @router.get("/links", response_model=AuditLinksOut, summary="The audit chain, oldest first")
    async def list_links(
        request: Request,
        _auditor: Auditor,
        after_seq: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_LINKS)] = 100,
    ) -> AuditLinksOut:
        links = await links_after(_database(request), after_seq=after_seq, limit=limit)
        return AuditLinksOut(
            service=_service(request),
            links=[
                AuditLinkOut(
                    seq=link.seq,
                    committed_at=link.committed_at,
                    entries=link.entries,
                    prev_hash=link.prev_hash,
                    hash=link.hash,
                )
                for link in links
            ],
            next_after_seq=links[-1].seq if len(links) == limit else None,
        )

    @router.get(
        "/verify",
        response_model=ChainReportOut,
        summary="Recompute the whole chain: the first edited or deleted link, if any",
    )
    async def verify(request: Request, _auditor: Auditor) -> ChainReportOut:
        report = await verify_chain(_database(request))
        return ChainReportOut(service=_service(request), **report.as_json())

    return router
