"""``intake-admin``: generate secrets and manage front ends' API keys."""

from __future__ import annotations

import argparse
import asyncio
import base64
import secrets
import sys

from complaint_contracts.vocabulary import CHANNELS
from complaint_runtime.database import Database
from complaint_runtime.migrations import upgrade_to_head
from cryptography.fernet import Fernet

from intake.access.service import register_api_key
from intake.config import IntakeSettings
from intake.main import MIGRATIONS


def generate_keys() -> dict[str, str]:
    return {
        "CONTACT_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "CUSTOMER_REF_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }


async def create_api_key(*, database_url: str, label: str, channels: list[str]) -> str:
    """Store a new key's hash and return the key itself (shown once, never stored)."""
    await upgrade_to_head(MIGRATIONS, database_url)
    database = Database(database_url)
    try:
        return await register_api_key(database=database, label=label, channels=channels)
    finally:
        await database.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="intake-admin", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("generate-keys", help="print new secret keys as KEY=VALUE lines")
    create = commands.add_parser("create-api-key", help="create a front end's API key")
    create.add_argument("--label", required=True, help="who holds it, e.g. 'web-form'")
    create.add_argument(
        "--channels",
        default="*",
        help=f"comma-separated channels it may post for ({', '.join(CHANNELS)}), or *",
    )
    args = parser.parse_args(argv)
    if args.command == "generate-keys":
        for name, value in generate_keys().items():
            print(f"{name}={value}")
        return 0
    channels = [c.strip() for c in args.channels.split(",") if c.strip()]
    unknown = [c for c in channels if c != "*" and c not in CHANNELS]
    if unknown:
        print(f"unknown channel(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    settings = IntakeSettings()
    key = asyncio.run(
        create_api_key(database_url=settings.database_url, label=args.label, channels=channels)
    )
    print(key)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
