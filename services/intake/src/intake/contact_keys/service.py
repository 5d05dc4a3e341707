"""Re-encrypt every stored value under the current contact key (the first of
``CONTACT_ENCRYPTION_KEY``), so that the keys after it can be removed.

Guarantees: each table is read in primary-key order in batches of ``batch_size`` rows, each
batch rewritten and committed in its own short transaction (bounded memory and locks, and
the live service keeps running); a value already under the current key is not rewritten,
so the command is idempotent and a run that was stopped resumes where it stopped by running
it again; a value under none of the configured keys stops the run (:class:`UnreadableValue`)
before anything of its batch is written, since removing the old key would lose it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from complaint_runtime.database import Database
from cryptography.fernet import InvalidToken

from intake.complaints.domain.secret_keys import Secrets
from intake.contact_keys.db import SEALED_TABLES, Rewrite, SealedRow, SealedRows, SealedTable

DEFAULT_BATCH = 500


class UnreadableValue(RuntimeError):
    """A stored value no configured key decrypts (it was written under a key that is no
    longer in ``CONTACT_ENCRYPTION_KEY``): put that key back at the end and run again."""


@dataclass
class TableProgress:
    """What a rotation did to one table so far."""

    table: str
    rows: int = 0
    values: int = 0
    rewritten: int = 0

    def line(self) -> str:
        return (
            f"{self.table}: {self.rows} rows read, {self.values} encrypted values, "
            f"{self.rewritten} re-encrypted"
        )


@dataclass
class Rotation:
    """The whole run's outcome, table by table."""

    tables: list[TableProgress] = field(default_factory=list)

    @property
    def rewritten(self) -> int:
        return sum(table.rewritten for table in self.tables)


async def rotate_contact_key(
    *,
    database: Database,
    secrets_: Secrets,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[TableProgress], None] = lambda _: None,
) -> Rotation:
    """Rewrite every encrypted value of every table under the current key; ``progress`` is
    called after each committed batch."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    rotation = Rotation()
    for sealed in SEALED_TABLES:
        done = TableProgress(sealed.name)
        rotation.tables.append(done)
        after: tuple[Any, ...] | None = None
        while True:
            async with database.sessions() as session, session.begin():
                repository = SealedRows(session)
                rows = await repository.batch(sealed, after=after, limit=batch_size)
                rewrites = [_rewrite(sealed, row, secrets_, done) for row in rows]
                await repository.rewrite(sealed, [r for r in rewrites if r.tokens])
            if not rows:
                break
            done.rows += len(rows)
            done.rewritten += sum(len(r.tokens) for r in rewrites)
            after = rows[-1].key
            progress(done)
            if len(rows) < batch_size:
                break
    return rotation


def _rewrite(
    sealed: SealedTable, row: SealedRow, secrets_: Secrets, done: TableProgress
) -> Rewrite:
    tokens: dict[str, tuple[bytes, bytes]] = {}
    for column, token in row.tokens.items():
        if token is None:
            continue
        done.values += 1
        if secrets_.is_current(token):
            continue
        try:
            tokens[column] = (token, secrets_.reseal(token))
        except InvalidToken as exc:
            raise UnreadableValue(
                f"{sealed.name}.{column} of row {row.key!r} is encrypted under none of the keys "
                "in CONTACT_ENCRYPTION_KEY: nothing of its batch was written; add the key it "
                "was written with (at the end) and run again"
            ) from exc
    return Rewrite(row.key, tokens)
