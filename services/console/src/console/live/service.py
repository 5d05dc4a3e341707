"""Live updates' use cases: record a change (the consumer, in its transaction), read the
changes a viewer may see after a cursor (each stream's poll), note and read who is writing
on a case (the case page's composer and its poll), prune old rows (a loop)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from complaint_contracts.envelope import Envelope
from complaint_runtime.database import Database, UnitOfWork

from console.live.db import LiveRepository
from console.live.domain.changes import CaseChange, change_of
from console.live.domain.cursor import advance
from console.live.domain.presence import Writer, activity_of, display_name_of, expiry
from console.live.domain.visibility import Viewer, concerns, sees

POLL_LIMIT = 200
GAP_GRACE_S = 3.0


async def record_change(*, uow: UnitOfWork, envelope: Envelope, now: datetime) -> None:
    """The event's change of its case, and whose the case is afterwards."""
    complaint_id = envelope.subject or str(getattr(envelope.data, "complaint_id", ""))
    if not complaint_id:
        return
    repository = LiveRepository(uow.session)
    known = await repository.known(complaint_id)
    change, after = change_of(
        envelope.data, complaint_id=complaint_id, occurred_at=envelope.time, known=known
    )
    if after != known:
        await repository.remember(complaint_id, after, now=now)
    repository.add_change(change, now=now)


async def latest_change_id(*, database: Database) -> int:
    async with database.sessions() as session:
        return await LiveRepository(session).latest_id()


@dataclass
class StreamPosition:
    """Where one stream is: everything up to ``cursor`` handled, and the ids above it
    already handled (see :mod:`console.live.domain.cursor`)."""

    cursor: int
    seen: dict[int, datetime] = field(default_factory=dict)
    # The last read filled a whole page: more changes wait, read them without sleeping (a
    # stream must keep up with a consumer catching up, not read one page per poll).
    behind: bool = False


async def visible_changes(
    *,
    database: Database,
    viewer: Viewer,
    position: StreamPosition,
    now: datetime,
    complaint_id: str | None = None,
) -> list[tuple[int, CaseChange]]:
    """The changes after ``position`` that ``viewer`` may see (and, with ``complaint_id``,
    of that case only), oldest first; moves ``position`` on."""
    async with database.sessions() as session:
        stored = await LiveRepository(session).changes_after(position.cursor, limit=POLL_LIMIT)
    fresh = [s for s in stored if s.id not in position.seen]
    position.behind = len(stored) == POLL_LIMIT and bool(fresh)
    for s in fresh:
        position.seen[s.id] = s.recorded_at
    position.cursor = advance(position.cursor, position.seen, now=now, grace_s=GAP_GRACE_S)
    position.seen = {i: at for i, at in position.seen.items() if i > position.cursor}
    return [
        (s.id, s.change)
        for s in fresh
        if sees(viewer, s.change) and concerns(s.change, complaint_id)
    ]


async def follow_changes(
    *,
    database: Database,
    viewer: Viewer,
    position: StreamPosition,
    clock: Callable[[], datetime],
    sleep: Callable[[float], Awaitable[None]],
    poll_s: float,
    until: datetime,
    complaint_id: str | None = None,
) -> AsyncIterator[tuple[int, CaseChange]]:
    """The visible changes as they are recorded, polling every ``poll_s``, until ``until``
    (a stream is bounded: the browser reconnects with its last event id, and the session
    is checked again)."""
    while clock() < until:
        for item in await visible_changes(
            database=database,
            viewer=viewer,
            position=position,
            now=clock(),
            complaint_id=complaint_id,
        ):
            yield item
        if not position.behind:
            await sleep(poll_s)


async def prune(*, database: Database, now: datetime, retention_s: int) -> int:
    """Drop changes older than the retention, what is known of cases closed that long ago
    (no later event can concern them), and who was writing until before ``now``."""
    before = now - timedelta(seconds=retention_s)
    async with database.unit_of_work() as uow:
        return await LiveRepository(uow.session).prune(
            changes_before=before, closed_before=before, now=now
        )


async def _sees_case(repository: LiveRepository, viewer: Viewer, complaint_id: str) -> bool:
    """The viewer may see the case as far as the read model knows whose it is (a case it
    has not heard of yet: the case page itself was routing's to allow)."""
    known = await repository.known(complaint_id)
    if known is None:
        return True
    change = CaseChange(
        complaint_id=complaint_id,
        event_type="presence",
        occurred_at=datetime.min.replace(tzinfo=UTC),
        team=known.team,
        assignee=known.assignee,
    )
    return sees(viewer, change)


async def note_writing(
    *,
    database: Database,
    viewer: Viewer,
    complaint_id: str,
    activity: str,
    now: datetime,
    ttl_s: int,
) -> None:
    """The viewer is typing in the case's composer (``activity``: its tab): shown to the
    case's other viewers for ``ttl_s`` seconds."""
    async with database.unit_of_work() as uow:
        repository = LiveRepository(uow.session)
        if not await _sees_case(repository, viewer, complaint_id):
            return
        await repository.note_writing(
            complaint_id=complaint_id,
            user_id=viewer.subject,
            display_name=display_name_of(viewer.subject),
            activity=activity_of(activity),
            expires_at=expiry(now, ttl_s=ttl_s),
        )


async def clear_writing(*, database: Database, complaint_id: str, user_id: str) -> None:
    """The user sent what they were writing on the case: others no longer see them writing
    (rather than until their last report expires)."""
    async with database.unit_of_work() as uow:
        await LiveRepository(uow.session).clear_writing(complaint_id=complaint_id, user_id=user_id)


async def writers(
    *, database: Database, viewer: Viewer, complaint_id: str, now: datetime
) -> list[Writer]:
    """The others writing on the case now (never the viewer themself)."""
    async with database.sessions() as session:
        repository = LiveRepository(session)
        if not await _sees_case(repository, viewer, complaint_id):
            return []
        return await repository.writers(complaint_id, now=now, besides=viewer.subject)
