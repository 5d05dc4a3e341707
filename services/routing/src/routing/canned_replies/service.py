"""Canned replies: administrators keep ready-made answers per category (one of the eight
codes, or none: any category) in zh-CN and en; leads and managers read the whole set,
staff working a case read the ones for its category and language.

The texts are checked for raw contacts before they get here (a canned reply is sent to
many customers: it must name none). Refusals: ``NotFound`` (no such reply).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from complaint_runtime.database import Database, UnitOfWork
from complaint_runtime.errors import NotFound

from routing.canned_replies.db import CannedReply, CannedReplyRepository
from routing.cases.transitions import now_utc

MAX_LISTED: Final = 500


@dataclass(frozen=True)
class CannedReplyView:
    id: int
    category: str | None
    language: str
    title: str
    text: str
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime

    @classmethod
    def of(cls, reply: CannedReply) -> CannedReplyView:
        return cls(
            id=reply.id,
            category=reply.category,
            language=reply.language,
            title=reply.title,
            text=reply.text,
            created_by=reply.created_by,
            created_at=reply.created_at,
            updated_by=reply.updated_by,
            updated_at=reply.updated_at,
        )


@dataclass(frozen=True)
class CannedReplyFields:
    """What an administrator writes: ``category`` None is for any category."""

    category: str | None
    language: str
    title: str
    text: str


def _not_found() -> NotFound:
    return NotFound(title="Canned reply not found")


async def list_replies(
    *, database: Database, category: str | None = None, language: str | None = None
) -> list[CannedReplyView]:
    """The replies for ``category`` plus those for any category (None: all of them), in
    ``language`` if given; the category's own first (at most :data:`MAX_LISTED`)."""
    async with database.sessions() as session:
        rows = await CannedReplyRepository(session).matching(
            category=category, language=language, limit=MAX_LISTED
        )
        return [CannedReplyView.of(r) for r in rows]


async def get_reply(*, database: Database, reply_id: int) -> CannedReplyView:
    async with database.sessions() as session:
        reply = await CannedReplyRepository(session).get(reply_id)
        if reply is None:
            raise _not_found()
        return CannedReplyView.of(reply)


async def create_reply(
    *, database: Database, fields: CannedReplyFields, actor: str
) -> CannedReplyView:
    now = now_utc()
    async with database.unit_of_work() as uow:
        reply = await CannedReplyRepository(uow.session).add(
            CannedReply(
                category=fields.category,
                language=fields.language,
                title=fields.title,
                text=fields.text,
                created_by=actor,
                created_at=now,
                updated_by=actor,
                updated_at=now,
            )
        )
        view = CannedReplyView.of(reply)
        _audit(uow, actor=actor, action="created", reply_id=view.id, before=None, after=view)
        return view


async def replace_reply(
    *, database: Database, reply_id: int, fields: CannedReplyFields, actor: str
) -> CannedReplyView:
    async with database.unit_of_work() as uow:
        reply = await CannedReplyRepository(uow.session).get(reply_id)
        if reply is None:
            raise _not_found()
        before = CannedReplyView.of(reply)
        reply.category, reply.language = fields.category, fields.language
        reply.title, reply.text = fields.title, fields.text
        reply.updated_by, reply.updated_at = actor, now_utc()
        after = CannedReplyView.of(reply)
        _audit(uow, actor=actor, action="replaced", reply_id=reply_id, before=before, after=after)
        return after


async def delete_reply(*, database: Database, reply_id: int, actor: str) -> None:
    async with database.unit_of_work() as uow:
        replies = CannedReplyRepository(uow.session)
        existing = await replies.get(reply_id)
        if existing is None:
            raise _not_found()
        before = CannedReplyView.of(existing)
        if not await replies.delete(reply_id):
            raise _not_found()
        _audit(uow, actor=actor, action="deleted", reply_id=reply_id, before=before, after=None)


def _audit(
    uow: UnitOfWork,
    *,
    actor: str,
    action: str,
    reply_id: int,
    before: CannedReplyView | None,
    after: CannedReplyView | None,
) -> None:
    """A canned reply's change in the audit chain. Its texts are templates staff wrote for
    everyone (no customer's data), so before and after hold them whole."""
    uow.audit(
        actor=actor,
        action=f"canned_reply.{action}",
        object_type="canned_reply",
        object_id=str(reply_id),
        before=before,
        after=after,
    )
