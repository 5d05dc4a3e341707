"""Submissions from the customer's pages answer once: each form carries a random
``submission`` key, and the answer given to it is kept (sealed: it may hold a tracking
token) in the idempotency table, in the same transaction as what it did. A double tap, a
retried post or a reload of the confirmation replays that answer instead of writing the
message, the follow-up complaint or the new link a second time; a concurrent duplicate
fails on the table's primary key and replays the winner's answer.

The rows share the front ends' Idempotency-Key table under caller ``0`` (no API key has
id 0: ids start at 1), with keys that name the action and the complaint."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from intake.complaints.db import SubmissionRepository
from intake.complaints.domain.errors import IdempotencyKeyReused
from intake.complaints.domain.secret_keys import Secrets

PAGE_CALLER: Final = 0
MAX_KEY: Final = 64


def page_key(action: str, complaint_id: str, submission_key: str) -> str:
    return f"page:{action}:{complaint_id}:{submission_key[:MAX_KEY]}"


def fingerprint(text: str) -> str:
    """What a submission key is bound to (the text sent with it)."""
    return hashlib.sha256(text.encode()).hexdigest()


async def replayed(
    session: AsyncSession, secrets_: Secrets, *, key: str, request_hash: str
) -> dict[str, Any] | None:
    """The answer already given to ``key``, if any. The same key with another text is
    refused (``IdempotencyKeyReused``): an old form sent again with new words."""
    record = await SubmissionRepository(session).idempotency_record(PAGE_CALLER, key)
    if record is None:
        return None
    if record.request_hash != request_hash:
        raise IdempotencyKeyReused(
            "This form was already sent with other text; nothing new was saved."
        )
    answer: dict[str, Any] = json.loads(secrets_.unseal(str(record.response["sealed"]).encode()))
    return answer


def record(
    session: AsyncSession,
    secrets_: Secrets,
    *,
    key: str,
    request_hash: str,
    answer: dict[str, Any],
) -> None:
    """Keep ``answer`` for ``key`` (staged in the caller's transaction)."""
    SubmissionRepository(session).add_idempotency_record(
        api_key_id=PAGE_CALLER,
        key=key,
        request_hash=request_hash,
        response={"sealed": secrets_.seal(json.dumps(answer, default=str)).decode()},
    )
