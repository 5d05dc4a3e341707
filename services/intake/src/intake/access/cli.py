"""``intake-admin``'s commands for front ends' API keys (wired into :mod:`intake.cli`)::

    intake-admin create-api-key --front-end web-shop --channels web,app [--scope erasure]
    intake-admin list-api-keys [--front-end web-shop]
    intake-admin rotate-api-key --id 3 [--grace-hours 24 | --revoke-now]
    intake-admin revoke-api-key --id 3 [--reason "leaked in a log"]

A key is printed once, on stdout, when it is made (create, rotate) and never again: the
list shows everything but keys and hashes. Each change records who (``--by``, default the
operating-system user) and when in the ``api_keys`` row itself.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from complaint_contracts.vocabulary import CHANNELS
from complaint_runtime.database import Database
from complaint_runtime.errors import DomainError
from complaint_runtime.migrations import upgrade_to_head

from intake.access.domain.front_ends import KNOWN_SCOPES
from intake.access.service import (
    KeyInfo,
    list_api_keys,
    register_api_key,
    revoke_api_key,
    rotate_api_key,
)

COMMANDS = frozenset({"create-api-key", "list-api-keys", "rotate-api-key", "revoke-api-key"})
DEFAULT_GRACE_HOURS = 24.0
T = TypeVar("T")


def _operator() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name to be found (a container without passwd)
        return None


def add_commands(commands: Any) -> None:
    """Add the key commands to ``intake-admin``'s subparsers."""
    by: dict[str, Any] = {
        "default": _operator(),
        "help": "who makes the change, recorded with it (default: the operating-system user)",
    }
    create = commands.add_parser("create-api-key", help="create a front end's API key")
    create.add_argument(
        "--front-end",
        required=True,
        help="the front end it belongs to, e.g. web-shop (stable: keys rotate within it)",
    )
    create.add_argument(
        "--label", help="what this key is, e.g. 'web-shop production' (default: the front end)"
    )
    create.add_argument(
        "--channels",
        default="*",
        help=f"comma-separated channels it may post for ({', '.join(CHANNELS)}), or *",
    )
    create.add_argument(
        "--scope",
        action="append",
        default=[],
        choices=sorted(KNOWN_SCOPES),
        help="; ".join(f"{name}: {what}" for name, what in KNOWN_SCOPES.items())
        + " (repeat for several)",
    )
    create.add_argument("--by", **by)
    listing = commands.add_parser(
        "list-api-keys", help="list the keys (never the keys themselves), revoked ones included"
    )
    listing.add_argument("--front-end", help="only this front end's keys")
    rotate = commands.add_parser(
        "rotate-api-key",
        help="a new key for the same front end, channels and scopes; the old one stops later",
    )
    rotate.add_argument("--id", type=int, required=True, help="the key's id (list-api-keys)")
    rotate.add_argument(
        "--grace-hours",
        type=float,
        default=DEFAULT_GRACE_HOURS,
        help=f"how long the old key keeps working (default {DEFAULT_GRACE_HOURS:g})",
    )
    rotate.add_argument(
        "--revoke-now", action="store_true", help="the old key stops at once (a leaked key)"
    )
    rotate.add_argument("--by", **by)
    revoke = commands.add_parser("revoke-api-key", help="a key stops working now")
    revoke.add_argument("--id", type=int, required=True, help="the key's id (list-api-keys)")
    revoke.add_argument("--reason", help="why, recorded with it")
    revoke.add_argument("--by", **by)


def run(args: argparse.Namespace, *, database_url: str, migrations: Path) -> int:
    """Run the key command ``args`` names: 0 done, 1 refused, 2 bad arguments."""
    try:
        if args.command == "create-api-key":
            return _create(args, database_url, migrations)
        if args.command == "list-api-keys":
            keys = _with_database(
                database_url,
                migrations,
                lambda db: list_api_keys(database=db, front_end=args.front_end),
            )
            print(format_keys(keys))
            return 0
        if args.command == "rotate-api-key":
            return _rotate(args, database_url, migrations)
        _with_database(
            database_url,
            migrations,
            lambda db: revoke_api_key(database=db, key_id=args.id, reason=args.reason, by=args.by),
        )
        print(f"API key {args.id} revoked", file=sys.stderr)
        return 0
    except DomainError as refused:
        print(refused.detail or refused.title, file=sys.stderr)
        return 1


def _create(args: argparse.Namespace, database_url: str, migrations: Path) -> int:
    channels = [c.strip() for c in args.channels.split(",") if c.strip()]
    unknown = [c for c in channels if c != "*" and c not in CHANNELS]
    if unknown:
        print(f"unknown channel(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    key = _with_database(
        database_url,
        migrations,
        lambda db: register_api_key(
            database=db,
            label=args.label or args.front_end,
            channels=channels,
            front_end=args.front_end,
            scopes=args.scope,
            created_by=args.by,
        ),
    )
    print(key)
    return 0


def _rotate(args: argparse.Namespace, database_url: str, migrations: Path) -> int:
    grace = timedelta(0) if args.revoke_now else timedelta(hours=args.grace_hours)
    rotated = _with_database(
        database_url,
        migrations,
        lambda db: rotate_api_key(database=db, key_id=args.id, grace=grace, by=args.by),
    )
    print(rotated.key)
    print(
        f"API key {rotated.key_id} of {rotated.front_end} replaces key {rotated.old_key_id}, "
        f"which stops working at {rotated.old_stops_at.isoformat()}",
        file=sys.stderr,
    )
    return 0


def _with_database(
    database_url: str, migrations: Path, work: Callable[[Database], Awaitable[T]]
) -> T:
    """``work`` on the database, migrated to head first (a fresh one is ready to use)."""

    async def run_it() -> T:
        await upgrade_to_head(migrations, database_url)
        database = Database(database_url)
        try:
            return await work(database)
        finally:
            await database.dispose()

    return asyncio.run(run_it())


def format_keys(keys: Sequence[KeyInfo]) -> str:
    """One tab-separated line per key under a header; never a key or its hash."""
    lines = [
        "\t".join(
            (
                "id",
                "front_end",
                "state",
                "channels",
                "scopes",
                "label",
                "created",
                "ended",
                "rotated_from",
            )
        )
    ]
    for key in keys:
        lines.append(
            "\t".join(
                (
                    str(key.id),
                    key.front_end,
                    _state(key),
                    ",".join(key.channels) or "-",
                    ",".join(key.scopes) or "-",
                    key.label,
                    _when(key.created_at, key.created_by),
                    _ended(key),
                    str(key.rotated_from) if key.rotated_from is not None else "-",
                )
            )
        )
    return "\n".join(lines)


def _state(key: KeyInfo) -> str:
    if key.revoked_at is None:
        return "active"
    return "rotating-out" if key.active else "revoked"


def _ended(key: KeyInfo) -> str:
    if key.revoked_at is None:
        return "-"
    reason = f" ({key.revoked_reason})" if key.revoked_reason else ""
    return _when(key.revoked_at, key.revoked_by) + reason


def _when(at: datetime, by: str | None) -> str:
    return f"{at.isoformat(timespec='seconds')}" + (f" by {by}" if by else "")
