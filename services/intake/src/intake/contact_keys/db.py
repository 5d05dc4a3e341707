"""Where intake keeps encrypted values, and the batched reads and conditional rewrites a key
rotation needs.

Every column holding a Fernet token is listed in :data:`SEALED_TABLES` (a test fails when
an ``*_enc`` column is missing from it). A rewrite sets a column to its new token only if it
still holds the token that was read (a compare-and-set per column, in one statement per
batch): a value the service changed meanwhile was written under the current key already,
and is left alone, so the rotation runs beside the live service without locks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

from sqlalchemy import LargeBinary, Table, bindparam, case, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from intake.complaints.db import IdempotencyRecord
from intake.db import COMPLAINTS
from intake.recovery.db import TrackingCode


@dataclass(frozen=True)
class SealedTable:
    """A table with encrypted values: its Fernet-token columns (``columns``) and, for the
    stored Idempotency-Key answers, a JSON column holding ``{"sealed": token}``."""

    table: Table
    columns: tuple[str, ...] = ()
    sealed_json: str | None = None

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def key(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.table.primary_key.columns)


SEALED_TABLES: Final = (
    SealedTable(COMPLAINTS, ("customer_name_enc", "phone_enc", "email_enc", "tracking_token_enc")),
    SealedTable(cast(Table, TrackingCode.__table__), ("code_enc",)),
    # Never updated once written (a replayed answer), so rewritten without a comparison.
    SealedTable(cast(Table, IdempotencyRecord.__table__), sealed_json="response"),
)


@dataclass(frozen=True)
class SealedRow:
    """One row's primary key and its encrypted values (None: no value)."""

    key: tuple[Any, ...]
    tokens: dict[str, bytes | None]


@dataclass(frozen=True)
class Rewrite:
    """New tokens for one row: column → (token read, token under the current key)."""

    key: tuple[Any, ...]
    tokens: dict[str, tuple[bytes, bytes]]


class SealedRows:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def batch(
        self, sealed: SealedTable, *, after: tuple[Any, ...] | None, limit: int
    ) -> list[SealedRow]:
        """Up to ``limit`` rows in primary-key order, after the key ``after``."""
        key_columns = [sealed.table.c[name] for name in sealed.key]
        value_columns = [sealed.table.c[name] for name in sealed.columns]
        if sealed.sealed_json:
            value_columns.append(sealed.table.c[sealed.sealed_json])
        statement = select(*key_columns, *value_columns).order_by(*key_columns).limit(limit)
        if after is not None:
            statement = statement.where(_after(key_columns, after))
        rows = (await self.session.execute(statement)).all()
        width = len(key_columns)
        return [SealedRow(tuple(row[:width]), _tokens(sealed, dict(row._mapping))) for row in rows]

    async def rewrite(self, sealed: SealedTable, rewrites: Sequence[Rewrite]) -> None:
        """Write the new tokens, each only where the column still holds the one read."""
        if not rewrites:
            return
        table = sealed.table
        where = [table.c[name] == bindparam(f"k_{name}") for name in sealed.key]
        if sealed.sealed_json:
            statement = (
                update(table)
                .where(*where)
                .values(
                    {
                        sealed.sealed_json: bindparam(
                            "new_json", type_=table.c[sealed.sealed_json].type
                        )
                    }
                )
            )
            await self.session.execute(
                statement,
                [
                    {
                        **_key_params(sealed, rewrite.key),
                        "new_json": {"sealed": rewrite.tokens[sealed.sealed_json][1].decode()},
                    }
                    for rewrite in rewrites
                ],
            )
            return
        values = {
            name: case(
                (
                    table.c[name] == bindparam(f"old_{name}", type_=LargeBinary()),
                    bindparam(f"new_{name}", type_=LargeBinary()),
                ),
                else_=table.c[name],
            )
            for name in sealed.columns
        }
        params = []
        for rewrite in rewrites:
            row = _key_params(sealed, rewrite.key)
            for name in sealed.columns:
                old, new = rewrite.tokens.get(name, (None, None))
                # NULL never equals: the column keeps what it holds.
                row[f"old_{name}"], row[f"new_{name}"] = old, new
            params.append(row)
        await self.session.execute(update(table).where(*where).values(values), params)


def _after(key_columns: list[Any], after: tuple[Any, ...]) -> ColumnElement[bool]:
    if len(key_columns) == 1:
        return cast(ColumnElement[bool], key_columns[0] > after[0])
    return tuple_(*key_columns) > tuple_(*after)


def _key_params(sealed: SealedTable, key: tuple[Any, ...]) -> dict[str, Any]:
    return {f"k_{name}": value for name, value in zip(sealed.key, key, strict=True)}


def _tokens(sealed: SealedTable, row: dict[str, Any]) -> dict[str, bytes | None]:
    tokens: dict[str, bytes | None] = {name: row[name] for name in sealed.columns}
    if sealed.sealed_json:
        stored = row[sealed.sealed_json]
        token = stored.get("sealed") if isinstance(stored, dict) else None
        tokens[sealed.sealed_json] = token.encode() if isinstance(token, str) else None
    return tokens
