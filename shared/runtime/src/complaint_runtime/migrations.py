"""Alembic, shared: each service keeps its own migration scripts and calls these two.

A service's ``migrations/env.py`` is two lines (``run_env(metadata)``); its lifespan calls
:func:`upgrade_to_head` so a fresh database is ready before the first request.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from complaint_runtime.database import UTCDateTime

# Serialises concurrent replicas migrating the same database at start-up.
MIGRATION_LOCK_KEY = 7_261_126_002


def alembic_config(script_location: Path, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


async def upgrade_to_head(script_location: Path, database_url: str) -> None:
    config = alembic_config(script_location, database_url)
    # env.py runs its own event loop; keep it off the service's loop.
    await asyncio.to_thread(command.upgrade, config, "head")


def run_env(target_metadata: MetaData) -> None:
    """Body of every service's env.py (online mode, async engine)."""
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("sqlalchemy.url is not set")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_online(url, target_metadata))


async def _run_online(url: str, target_metadata: MetaData) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool, hide_parameters=True)
    async with engine.connect() as connection:
        await connection.run_sync(_migrate, target_metadata)
    await engine.dispose()


def _render_item(kind: str, item: Any, _autogen_context: Any) -> str | Literal[False]:
    # Migrations stay plain SQLAlchemy: UTCDateTime is a Python-side wrapper only.
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _migrate(connection: Connection, target_metadata: MetaData) -> None:
    is_postgres = connection.dialect.name == "postgresql"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_item=_render_item,
        render_as_batch=not is_postgres,  # SQLite cannot ALTER most things in place
    )
    with context.begin_transaction():
        if is_postgres:
            connection.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"))
        context.run_migrations()


def create_runtime_tables() -> None:
    """The runtime's own tables (outbox, processed events), for each service's first
    migration. A migration is history: change these tables only through new functions
    called by new migrations, never by editing this one."""
    op.create_table(
        "outbox_messages",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("key", sa.LargeBinary(), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_messages_event_id")),
    )
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_processed_events")),
    )


def drop_runtime_tables() -> None:
    op.drop_table("processed_events")
    op.drop_table("outbox_messages")


def create_audit_chain() -> None:
    """The runtime's audit chain (:mod:`complaint_runtime.audit`), one per service database,
    and the index the pruning of processed-event ids deletes by
    (:mod:`complaint_runtime.pruning`); history like :func:`create_runtime_tables`."""
    op.create_table(
        "audit_chain",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entries", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_chain")),
    )
    op.create_index(op.f("ix_processed_events_processed_at"), "processed_events", ["processed_at"])


def drop_audit_chain() -> None:
    op.drop_index(op.f("ix_processed_events_processed_at"), table_name="processed_events")
    op.drop_table("audit_chain")
