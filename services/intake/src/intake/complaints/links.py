"""The customer's link: which complaint a tracking token opens, and a new token for a
complaint (the page's "get a new link", or a recovered link), after which the old link
opens nothing. Notify fetches the link just in time, so every later message carries the
new one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from complaint_runtime.database import Database
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from intake.access.domain.callers import Viewer
from intake.complaints import replays
from intake.complaints.domain.errors import ComplaintNotFound
from intake.complaints.domain.secret_keys import Secrets
from intake.complaints.domain.tracking import hash_token, new_tracking_token, tracking_url
from intake.db import Complaint, ComplaintRepository

MAX_TOKEN: Final = 200  # longer is no token of ours: not looked up


async def complaint_of_token(*, database: Database, token: str) -> str | None:
    """The id of the complaint ``token`` opens, or None (unknown, rotated, malformed)."""
    if not token or len(token) > MAX_TOKEN:
        return None
    async with database.sessions() as session:
        complaint = await ComplaintRepository(session).by_token_hash(hash_token(token))
    return complaint.id if complaint is not None else None


@dataclass(frozen=True)
class NewLink:
    complaint_id: str
    token: str
    url: str


async def rotate_link(
    *,
    database: Database,
    secrets_: Secrets,
    viewer: Viewer,
    complaint_id: str,
    submission_key: str | None,
    public_base_url: str,
) -> NewLink:
    """Give the complaint a new token; the viewer's (the old one) stops working. The same
    ``submission_key`` sent again with the old token (a double tap) gets the same new link
    back instead of a third one. Refusal: ``ComplaintNotFound``."""
    key = replays.page_key("link", complaint_id, submission_key) if submission_key else None
    old = hash_token(viewer.tracking_token or "")
    try:
        async with database.unit_of_work() as uow:
            # Locked: of two concurrent rotations the second sees the first's token.
            complaint = await ComplaintRepository(uow.session).get_for_update(complaint_id)
            if complaint is None:
                raise ComplaintNotFound()
            if not viewer.may_view(complaint):
                return await _replay(uow.session, secrets_, key, old, complaint.id, public_base_url)
            token = replace_token(complaint, secrets_, now=datetime.now(UTC))
            if key:
                replays.record(
                    uow.session, secrets_, key=key, request_hash=old, answer={"token": token}
                )
    except IntegrityError:
        async with database.sessions() as session:
            return await _replay(session, secrets_, key, old, complaint_id, public_base_url)
    return NewLink(complaint_id, token, tracking_url(public_base_url, token))


def replace_token(complaint: Complaint, secrets_: Secrets, *, now: datetime) -> str:
    """Give a complaint (locked by the caller's transaction) a new token and return it; the
    old one opens nothing from the commit on. Also how a recovered link is made
    (:mod:`intake.recovery.service`)."""
    token = new_tracking_token()
    complaint.tracking_token_hash = hash_token(token)
    complaint.tracking_token_enc = secrets_.encrypt(token)
    complaint.updated_at = now
    return token


async def _replay(
    session: AsyncSession,
    secrets_: Secrets,
    key: str | None,
    old_hash: str,
    complaint_id: str,
    public_base_url: str,
) -> NewLink:
    answer = None
    if key is not None:
        answer = await replays.replayed(session, secrets_, key=key, request_hash=old_hash)
    if answer is None:
        raise ComplaintNotFound()
    token = str(answer["token"])
    complaint = await ComplaintRepository(session).get(complaint_id)
    if complaint is None or complaint.tracking_token_hash != hash_token(token):
        raise ComplaintNotFound()  # rotated again since: that link is gone too
    return NewLink(complaint_id, token, tracking_url(public_base_url, token))
