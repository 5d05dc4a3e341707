"""``intake-admin apply-retention [--dry-run] [--batch-size N]`` (wired into
:mod:`intake.cli`): the retention job's run now, instead of waiting for the service's
hourly one (``RETENTION_DAYS``, ``RETENTION_BATCH_SIZE`` from the environment). A dry run
changes nothing and prints what a run would do."""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta

from complaint_runtime.database import Database

from intake.complaints.domain.secret_keys import Secrets
from intake.config import IntakeSettings
from intake.rights.retention import RetentionRun, apply_retention

COMMAND = "apply-retention"


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = commands.add_parser(
        COMMAND,
        help=(
            "anonymise the complaints closed longer than RETENTION_DAYS ago (not under a "
            "legal hold) now, through the erasure (reason retention_expired)"
        ),
    )
    command.add_argument(
        "--dry-run", action="store_true", help="change nothing: print how many are due"
    )
    command.add_argument("--batch-size", type=int, default=None, help="complaints per transaction")


def run(args: argparse.Namespace, settings: IntakeSettings) -> int:
    secrets_ = Secrets.from_settings(
        contact_encryption_key=settings.contact_encryption_key,
        customer_ref_key=settings.customer_ref_key,
    )
    result = asyncio.run(
        _apply(
            settings,
            secrets_,
            batch_size=args.batch_size or settings.retention_batch_size,
            dry_run=args.dry_run,
        )
    )
    print(report(result, dry_run=args.dry_run, days=settings.retention_days))
    return 0


def report(result: RetentionRun, *, dry_run: bool, days: float) -> str:
    erasable = result.due - result.held
    if dry_run:
        return (
            f"dry run: {result.due} complaint(s) closed more than {days:g} days ago; "
            f"{erasable} would be anonymised, {result.held} under a legal hold"
        )
    return (
        f"{result.anonymised} complaint(s) anonymised (closed more than {days:g} days ago); "
        f"{result.held} under a legal hold left as they are"
    )


async def _apply(
    settings: IntakeSettings, secrets_: Secrets, *, batch_size: int, dry_run: bool
) -> RetentionRun:
    database = Database(settings.database_url)
    try:
        return await apply_retention(
            database=database,
            secrets_=secrets_,
            period=timedelta(days=settings.retention_days),
            batch_size=batch_size,
            dry_run=dry_run,
        )
    finally:
        await database.dispose()
