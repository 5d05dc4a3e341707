"""Intake's composition root: everything the routers and consumers use, built once from the
settings. Routers take it with ``DependenciesDep``; nothing else reads ``app.state``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from complaint_runtime.database import Database
from fastapi import Depends, Request

from intake.access.service import ApiKeyCache
from intake.complaints.domain.secret_keys import Secrets
from intake.complaints.group_commit import GroupCommitter
from intake.complaints.reference_blocks import ReferenceAllocator
from intake.config import IntakeSettings


@dataclass(frozen=True)
class Dependencies:
    settings: IntakeSettings
    database: Database
    secrets: Secrets
    api_keys: ApiKeyCache
    writer: GroupCommitter
    references: ReferenceAllocator
    reopen_window: timedelta  # §3: a message this long after closure still reopens


def build_dependencies(settings: IntakeSettings, database: Database) -> Dependencies:
    """Refuses to start (RuntimeError) without the two secret keys."""
    return Dependencies(
        settings=settings,
        database=database,
        secrets=Secrets.from_settings(
            contact_encryption_key=settings.contact_encryption_key,
            customer_ref_key=settings.customer_ref_key,
        ),
        api_keys=ApiKeyCache(settings.api_key_cache_s),
        writer=GroupCommitter(database, max_batch=settings.group_commit_max),
        references=ReferenceAllocator(database, block_size=settings.reference_block_size),
        reopen_window=timedelta(days=settings.reopen_window_days),
    )


def dependencies(request: Request) -> Dependencies:
    deps: Dependencies = request.app.state.dependencies
    return deps


DependenciesDep = Annotated[Dependencies, Depends(dependencies)]
