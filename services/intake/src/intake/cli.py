"""``intake-admin``: generate secrets, rotate the contact key, manage front ends' API keys."""

from __future__ import annotations

import argparse
import asyncio
import base64
import secrets
import sys
from collections.abc import Sequence

from complaint_runtime.database import Database
from complaint_runtime.migrations import upgrade_to_head
from cryptography.fernet import Fernet

from intake.access import cli as key_commands
from intake.access.service import register_api_key
from intake.complaints.domain.secret_keys import Secrets
from intake.config import IntakeSettings
from intake.contact_keys.service import (
    DEFAULT_BATCH,
    Rotation,
    TableProgress,
    UnreadableValue,
    rotate_contact_key,
)
from intake.main import MIGRATIONS
from intake.rights import cli as retention_commands


def generate_keys() -> dict[str, str]:
    return {
        "CONTACT_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "CUSTOMER_REF_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }


async def create_api_key(
    *,
    database_url: str,
    label: str,
    channels: list[str],
    front_end: str | None = None,
    scopes: Sequence[str] = (),
) -> str:
    """Store a new key's hash and return the key itself (shown once, never stored);
    ``front_end`` defaults to the label (see :func:`register_api_key`)."""
    await upgrade_to_head(MIGRATIONS, database_url)
    database = Database(database_url)
    try:
        return await register_api_key(
            database=database, label=label, channels=channels, front_end=front_end, scopes=scopes
        )
    finally:
        await database.dispose()


def rotate_key(settings: IntakeSettings, *, batch_size: int) -> int:
    """Re-encrypt every stored value under the first key of CONTACT_ENCRYPTION_KEY, printing
    each table's progress; 1 when a value is under none of the keys (nothing lost), 2 for
    bad keys or arguments."""
    if batch_size < 1:
        print("--batch-size must be at least 1", file=sys.stderr)
        return 2
    try:
        secrets_ = Secrets.from_settings(
            contact_encryption_key=settings.contact_encryption_key,
            customer_ref_key=settings.customer_ref_key,
        )
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        rotation = asyncio.run(
            _rotate(database_url=settings.database_url, secrets_=secrets_, batch_size=batch_size)
        )
    except UnreadableValue as exc:
        print(exc, file=sys.stderr)
        return 1
    print(
        f"done: {rotation.rewritten} value(s) re-encrypted; every value is under the first key "
        "of CONTACT_ENCRYPTION_KEY, the others can be removed"
    )
    return 0


async def _rotate(*, database_url: str, secrets_: Secrets, batch_size: int) -> Rotation:
    database = Database(database_url)

    def report(progress: TableProgress) -> None:
        print(progress.line(), flush=True)

    try:
        return await rotate_contact_key(
            database=database, secrets_=secrets_, batch_size=batch_size, progress=report
        )
    finally:
        await database.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="intake-admin", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("generate-keys", help="print new secret keys as KEY=VALUE lines")
    rotate = commands.add_parser(
        "rotate-contact-key",
        help=(
            "re-encrypt every stored contact under the first key of CONTACT_ENCRYPTION_KEY "
            "(idempotent; run it again after an interruption), then the others can be removed"
        ),
    )
    rotate.add_argument(
        "--batch-size", type=int, default=DEFAULT_BATCH, help="rows per transaction"
    )
    key_commands.add_commands(commands)
    retention_commands.add_commands(commands)
    args = parser.parse_args(argv)
    if args.command == "generate-keys":
        for name, value in generate_keys().items():
            print(f"{name}={value}")
        return 0
    if args.command == "rotate-contact-key":
        return rotate_key(IntakeSettings(), batch_size=args.batch_size)
    if args.command == retention_commands.COMMAND:
        return retention_commands.run(args, IntakeSettings())
    return key_commands.run(args, database_url=IntakeSettings().database_url, migrations=MIGRATIONS)


if __name__ == "__main__":
    raise SystemExit(main())
