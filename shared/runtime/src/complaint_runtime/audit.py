"""The service's audit log: an append-only chain of links, one per transaction in which a
person acted, each carrying the hash of the one before (§10: every change has an actor and
goes to an append-only, hash-chained log; each service keeps its own chain).

**What a link holds.** The transaction's audit entries: one per event it emitted that a
person caused (who acted, what happened, to which complaint: the event's type, ``actor``
and subject, never its text; a service's own steps, such as clocks and notifications, are
in its history and on Kafka, not here), and the entries a use case adds itself with
:meth:`UnitOfWork.audit <complaint_runtime.database.UnitOfWork.audit>` (an administrator's
change with its before and after, a contact revealed, an export). No personal data: actors
are user ids, ``customer`` or service names; objects are ids.

**The guarantee.** A link is written in the transaction whose entries it holds, so an entry
exists exactly when its change committed. ``hash = SHA-256(prev_hash, seq, committed_at,
entries)`` over a canonical JSON form: editing any stored field of any link, deleting or
reordering links breaks the chain at that link, and :func:`verify_chain` names it. (Cutting
links off the end leaves a shorter valid chain: the verify report's head, kept elsewhere by
the operator or read by the auditor, is what shows that.)

**The cost.** Nothing for a transaction without a person's action (most of a consumer's);
otherwise one link, not one per entry: a group commit or a consumer's batch is one link.
Links are appended one at a time: on PostgreSQL the append takes a transaction-scoped
advisory lock just before the commit (held only for the commit itself); SQLite's
transactions hold the database's write lock from their start anyway.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import date, datetime
from typing import Any, Final, cast

from sqlalchemy import JSON, String, Table, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from complaint_runtime.context import current_origin
from complaint_runtime.database import Base, BigId, Database, UTCDateTime, utcnow

GENESIS: Final = "0" * 64
# Any constant works: it names "the audit chain" among this database's advisory locks.
AUDIT_LOCK_KEY: Final = 7_261_126_002
MAX_TEXT: Final = 200  # actor, action, object ids: ids and names, never free text
MAX_ENTRIES_PER_LINK: Final = 10_000


class AuditLink(Base):
    """One transaction's audit entries, chained to the link before it."""

    __tablename__ = "audit_chain"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    committed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    entries: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


_LINKS: Final = cast(Table, AuditLink.__table__)


@dataclass(frozen=True)
class AuditEntry:
    """Who did what to which object, when, from where; ``before``/``after`` for a change of
    configuration (plain JSON values, no personal data)."""

    actor: str
    action: str
    object_type: str
    object_id: str
    at: str = field(default_factory=lambda: utcnow().isoformat())
    origin: str = field(default_factory=lambda: current_origin())
    before: Any = None
    after: Any = None
    event_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        found = asdict(self)
        for name in ("actor", "action", "object_type", "object_id", "origin"):
            found[name] = str(found[name])[:MAX_TEXT]
        for name in ("before", "after"):  # dataclasses, times, enums: as JSON would show them
            found[name] = json.loads(json.dumps(found[name], default=_plain))
        return {name: value for name, value in found.items() if value is not None}


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value, key=str)
    return str(value)


# Events without an ``actor`` field that a person caused: intake's are the customer's own
# (a complaint or message posted for them, a lost-link code asked for); every other
# producer's are its own steps (clocks, confirmation requests, surveys).
CUSTOMER_SOURCES: Final = frozenset({"intake"})
_ACTOR_FIELD: Final = b'"actor"'


def event_entry(row: Mapping[str, Any]) -> dict[str, Any] | None:
    """The audit entry of one staged outbox row when a person acted (who, the event's type,
    which complaint); None for the service's own steps: an event whose actor is its
    producer, or that has none (except intake's, which are the customer's). Those are in
    the services' histories and on Kafka; the chain is who did what."""
    headers = dict(row["headers"])
    source = headers.get("ce_source", "")
    value: bytes = row["value"]
    actor = "customer" if source in CUSTOMER_SOURCES else None
    if _ACTOR_FIELD in value:  # parse only when the event names an actor
        try:
            data = json.loads(value)
        except ValueError:  # not JSON: its producer wrote it; nothing to say who acted
            data = None
        if isinstance(data, dict) and isinstance(data.get("actor"), str):
            actor = data["actor"]
    if actor is None or actor == source:
        return None
    ce_type = headers.get("ce_type", "")
    return AuditEntry(
        actor=actor,
        action=ce_type.removeprefix("org.opencomplaints."),
        object_type="complaint",
        object_id=headers.get("ce_subject", ""),
        event_id=row["event_id"],
    ).as_json()


def link_hash(*, prev_hash: str, seq: int, committed_at: datetime, entries: Sequence[Any]) -> str:
    """The link's hash over a canonical JSON form of everything it stores."""
    document = json.dumps(
        [prev_hash, seq, committed_at.isoformat(), entries],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(document.encode()).hexdigest()


async def append_link(
    session: AsyncSession, entries: list[dict[str, Any]], *, is_postgres: bool
) -> int:
    """Append one link holding ``entries`` in the session's transaction; returns its seq.
    Call it last before the commit: it holds the chain's lock until then (on PostgreSQL an
    advisory lock; SQLite transactions begin IMMEDIATE, holding the database's write lock
    from the start, see :mod:`complaint_runtime.database`)."""
    if is_postgres:
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})
    head = (
        await session.execute(
            select(AuditLink.seq, AuditLink.hash).order_by(AuditLink.seq.desc()).limit(1)
        )
    ).first()
    prev_hash = head.hash if head is not None else GENESIS
    seq = (head.seq if head is not None else 0) + 1
    committed_at = utcnow()
    await session.execute(
        _LINKS.insert().values(
            seq=seq,
            committed_at=committed_at,
            entries=entries,
            prev_hash=prev_hash,
            hash=link_hash(
                prev_hash=prev_hash, seq=seq, committed_at=committed_at, entries=entries
            ),
        )
    )
    return seq


@dataclass(frozen=True)
class ChainReport:
    """What :func:`verify_chain` found: ``ok``, the links and entries read, the head, and
    the first link that does not hold (with why)."""

    ok: bool
    links: int
    entries: int
    head_seq: int | None
    head_hash: str
    broken_at: int | None = None
    problem: str | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


async def links_after(
    database: Database, *, after_seq: int = 0, limit: int = 500
) -> list[AuditLink]:
    async with database.sessions() as session:
        found = await session.scalars(
            select(AuditLink).where(AuditLink.seq > after_seq).order_by(AuditLink.seq).limit(limit)
        )
        return list(found)


async def _all_links(database: Database, page: int) -> AsyncIterator[AuditLink]:
    after = 0
    while True:
        links = await links_after(database, after_seq=after, limit=page)
        for link in links:
            yield link
        if len(links) < page:
            return
        after = links[-1].seq


async def verify_chain(database: Database, *, page: int = 1_000) -> ChainReport:
    """Recompute every link's hash, in order: the first edited, deleted or reordered link
    is reported (an edit shows at the edited link, a deletion at the link after the gap)."""
    prev_hash, links, entries, head_seq = GENESIS, 0, 0, None
    async for link in _all_links(database, page):
        expected = link_hash(
            prev_hash=link.prev_hash,
            seq=link.seq,
            committed_at=link.committed_at,
            entries=link.entries,
        )
        problem = None
        if link.prev_hash != prev_hash:
            problem = "its prev_hash is not the hash of the link before it (a link was deleted)"
        elif link.hash != expected:
            problem = "its hash does not match its content (the link was edited)"
        if problem is not None:
            return ChainReport(False, links, entries, head_seq, prev_hash, link.seq, problem)
        prev_hash, head_seq = link.hash, link.seq
        links += 1
        entries += len(link.entries)
    return ChainReport(True, links, entries, head_seq, prev_hash)
