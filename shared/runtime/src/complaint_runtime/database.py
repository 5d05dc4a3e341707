"""Async SQLAlchemy engine, the tables every service shares (outbox, processed events), and
the unit of work that puts a state change and its events in one transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

import structlog
from complaint_contracts.base import EventData
from complaint_contracts.envelope import encode
from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    TypeDecorator,
    event,
    insert,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, SessionTransaction, mapped_column

from complaint_runtime.context import current_causation

# SQLite has no BIGSERIAL; INTEGER PRIMARY KEY is its auto-increment rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, on PostgreSQL and on SQLite
    (which stores no offset and would otherwise hand back naive datetimes)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, _dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, _dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def dialect_insert(session: AsyncSession) -> Any:
    """INSERT with ON CONFLICT support for the session's dialect (PostgreSQL or SQLite)."""
    name = session.get_bind().dialect.name
    return pg_insert if name == "postgresql" else sqlite_insert


class Base(DeclarativeBase):
    """Declarative base of one service's tables; each service has its own metadata."""

    metadata = MetaData(naming_convention=NAMING)


class OutboxMessage(Base):
    """An event committed with the state change that caused it, waiting for the relay."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    topic: Mapped[str] = mapped_column(String(200))
    key: Mapped[bytes] = mapped_column(LargeBinary)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    headers: Mapped[list[list[str]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


_OUTBOX_TABLE = cast(Table, OutboxMessage.__table__)


class ProcessedEvent(Base):
    """An event a consumer group has applied (or dead-lettered): applied at most once."""

    __tablename__ = "processed_events"

    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(20))
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Database:
    """One engine per service process."""

    def __init__(self, url: str, *, pool_size: int = 10, statement_timeout_s: float = 10.0):
        self.url = url
        self.is_postgres = url.startswith("postgresql")
        kwargs: dict[str, Any] = {}
        if self.is_postgres:
            # No pre-ping: it costs a round trip per checkout on the hot path. A connection
            # that died with the server fails its statement instead, SQLAlchemy invalidates
            # the pool on that disconnect error, and the caller gets a 503 and retries.
            kwargs |= {
                "pool_size": pool_size,
                "max_overflow": pool_size,
                "pool_timeout": statement_timeout_s,
                "connect_args": {
                    "timeout": statement_timeout_s,
                    "command_timeout": statement_timeout_s,
                    "server_settings": {"application_name": "complaint-platform"},
                },
            }
        else:
            kwargs["connect_args"] = {"timeout": statement_timeout_s}
        # hide_parameters: a failed statement's error (logged, put in a dead letter's
        # `dlq_error` header, answered to no one) names the statement, never the bound
        # values, which may be contacts or free text (§10).
        self.engine: AsyncEngine = create_async_engine(url, hide_parameters=True, **kwargs)
        if not self.is_postgres:
            _make_sqlite_transactional(self.engine)
        self.sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=OutboxSession
        )
        self.on_events_committed: Callable[[], None] = lambda: None
        self._background: set[asyncio.Task[None]] = set()  # referenced until done

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self)

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()

    async def truncate_wal(self) -> None:
        """On SQLite (the zero-setup ``make up``): move the write-ahead log into the database
        file and truncate it, so the page images that held erased values (in the log since
        they were written) go now, not at a later automatic checkpoint; with
        ``secure_delete`` on, the database file keeps no copy either. Outside any
        transaction, on the driver's connection; best effort: a reader still open leaves
        the log for the next checkpoint. Nothing on PostgreSQL (VACUUM and WAL recycling:
        docs/security.md, "Erasure")."""
        if self.is_postgres:
            return
        async with self.engine.connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            if driver is not None:
                cursor = await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                await cursor.close()

    def truncate_wal_soon(self) -> None:
        """:meth:`truncate_wal` in the background (e.g. from an ``after_commit`` callback of
        the transaction that erased something); a failure is logged, never raised."""
        if self.is_postgres:
            return
        task = asyncio.get_running_loop().create_task(self._truncate_wal_logged())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _truncate_wal_logged(self) -> None:
        try:
            await self.truncate_wal()
        except Exception:  # best effort: the next automatic checkpoint still comes
            structlog.get_logger(__name__).warning("WAL truncation failed", exc_info=True)


def _make_sqlite_transactional(engine: AsyncEngine) -> None:
    """pysqlite's own transaction handling breaks SAVEPOINT; take BEGIN over (SQLAlchemy
    docs, "Serializable isolation / Savepoints / Transactional DDL")."""

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        # Erased and overwritten values are zeroed on disk, not left in free pages (§10).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


# Where a unit of work keeps its staged rows, in ``Session.info``.
_STAGED = "complaint_runtime.staged_outbox"


class _StagedOutbox:
    """Outbox rows of one unit of work not yet written, in the order they were staged.

    Rows are plain dicts, inserted at commit in one multi-row INSERT: an ORM object per
    event cost more than encoding the event itself when a round stages thousands. A
    savepoint rolled back drops the rows staged inside it, as the ORM expunged its
    pending objects.
    """

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.marks: dict[SessionTransaction, int] = {}
        # SQLAlchemy ends a transaction before it reports the rollback: the mark of the
        # savepoint that ended last waits here for that report.
        self.last_ended: tuple[SessionTransaction, int | None] | None = None


class OutboxSession(Session):
    """The sessions of :class:`Database`; its events keep a unit of work's staged outbox rows
    in step with savepoints (sessions without staged rows are left alone)."""


@event.listens_for(OutboxSession, "after_transaction_create")
def _mark_savepoint(session: Session, transaction: SessionTransaction) -> None:
    staged: _StagedOutbox | None = session.info.get(_STAGED)
    if staged is not None and transaction.nested:
        staged.marks[transaction] = len(staged.rows)


@event.listens_for(OutboxSession, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    staged: _StagedOutbox | None = session.info.get(_STAGED)
    if staged is None:
        return
    if not previous_transaction.nested:
        staged.rows.clear()
    elif staged.last_ended is not None and staged.last_ended[0] is previous_transaction:
        mark = staged.last_ended[1]
        if mark is not None:
            del staged.rows[mark:]


@event.listens_for(OutboxSession, "after_transaction_end")
def _forget_savepoint(session: Session, transaction: SessionTransaction) -> None:
    staged: _StagedOutbox | None = session.info.get(_STAGED)
    if staged is not None and transaction.nested:
        staged.last_ended = (transaction, staged.marks.pop(transaction, None))


class UnitOfWork:
    """One transaction: state changes plus outbox rows, committed together or not at all.

    ``async with database.unit_of_work() as uow:`` commits on success and rolls back on
    error; events added with :meth:`add_event` reach Kafka through the outbox relay.
    """

    def __init__(self, database: Database):
        self._database = database
        self.session: AsyncSession = database.sessions()
        self._staged = _StagedOutbox()
        self.session.info[_STAGED] = self._staged
        self._after_commit: list[Callable[[], None]] = []
        self._audited: list[dict[str, Any]] = []

    async def __aenter__(self) -> UnitOfWork:
        await self.session.begin()
        return self

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                await self.commit()
            else:
                await self.session.rollback()
        finally:
            await self.session.close()

    async def commit(self) -> None:
        added = await self._write_staged()
        if self._audited:
            # Last before the commit: on PostgreSQL the chain's lock is held until then.
            from complaint_runtime.audit import append_link  # audit's table needs Base

            entries, self._audited = self._audited, []
            await append_link(self.session, entries, is_postgres=self._database.is_postgres)
        await self.session.commit()
        if added:
            self._database.on_events_committed()
        callbacks, self._after_commit = self._after_commit, []
        for callback in dict.fromkeys(callbacks):  # each once, however often asked
            callback()

    def truncate_wal_after_commit(self) -> None:
        """Once this transaction (which erased something) has committed, truncate SQLite's
        write-ahead log (:meth:`Database.truncate_wal`); nothing on PostgreSQL."""
        self.after_commit(self._database.truncate_wal_soon)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (quick, synchronous: e.g. wake a loop) once this transaction
        has committed; never when it rolls back."""
        self._after_commit.append(callback)

    async def _write_staged(self) -> int:
        rows = self._staged.rows
        if not rows:
            return 0
        self._staged.rows = []
        await self.session.execute(insert(_OUTBOX_TABLE), rows)
        from complaint_runtime.audit import event_entry

        # A person's action in each event is audited (a service's own steps are not).
        self._audited.extend(entry for row in rows if (entry := event_entry(row)) is not None)
        return len(rows)

    def audit(
        self,
        *,
        actor: str,
        action: str,
        object_type: str,
        object_id: str,
        before: Any = None,
        after: Any = None,
    ) -> None:
        """Add an entry to this transaction's link of the audit chain (written at commit,
        with an entry per event of a person's action it emitted): who did what to which object,
        with ``before``/``after`` for a change of configuration. Ids and plain values
        only, never personal data (:mod:`complaint_runtime.audit`)."""
        from complaint_runtime.audit import AuditEntry

        entry = AuditEntry(
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            before=before,
            after=after,
        )
        self._audited.append(entry.as_json())

    def add_event(
        self,
        data: EventData,
        *,
        topic: str,
        source: str,
        subject: str,
        time: datetime | None = None,
    ) -> str:
        """Stage one event in the outbox of this transaction; returns its CloudEvents id."""
        causation = current_causation()
        event_id, record = encode(
            data,
            topic=topic,
            source=source,
            subject=subject,
            correlation_id=causation.correlation_id,
            causation_id=causation.causation_id,
            time=time,
        )
        self._staged.rows.append(
            {
                "event_id": event_id,
                "topic": record.topic,
                "key": record.key,
                "value": record.value,
                "headers": [[name, value.decode()] for name, value in record.headers],
                "created_at": utcnow(),
            }
        )
        return event_id

    async def mark_processed(self, *, consumer: str, event_id: str, outcome: str) -> bool:
        """Record that ``consumer`` handled ``event_id``; False when it already had."""
        insert = dialect_insert(self.session)
        statement = (
            insert(ProcessedEvent)
            .values(consumer=consumer, event_id=event_id, outcome=outcome, processed_at=utcnow())
            .on_conflict_do_nothing()
        )
        result = await self.session.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]


# SQLSTATE classes that mean "the server is not there for us", not "the statement is bad":
# 08 connection exception, 53 insufficient resources, 57P operator intervention (shutdown,
# restart, cannot connect now).
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P")


def is_database_unavailable(exc: DBAPIError) -> bool:
    """Connection-level failures (server down, restarting, network) versus a bad statement."""
    if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return bool(sqlstate) and str(sqlstate).startswith(_UNAVAILABLE_SQLSTATES)


def is_outage(exc: BaseException) -> bool:
    """The database or the network is away (a 503 with Retry-After), not a bug (a 500)."""
    if isinstance(exc, DBAPIError):
        return is_database_unavailable(exc)
    return isinstance(exc, OSError | TimeoutError)
