"""``audit-verify``: one command that verifies the audit chain of every service database it
is given (``name=URL`` pairs), prints each chain's head, and exits 1 when any chain is
broken (an edited, deleted or reordered link) or cannot be read."""

from __future__ import annotations

import argparse
import asyncio
import sys

from complaint_runtime.audit import ChainReport, verify_chain
from complaint_runtime.database import Database


async def _verify(url: str) -> ChainReport:
    database = Database(url)
    try:
        return await verify_chain(database)
    finally:
        await database.dispose()


def _line(name: str, report: ChainReport) -> str:
    if report.ok:
        head = f"head #{report.head_seq} {report.head_hash[:16]}…" if report.head_seq else "empty"
        return f"{name}: ok, {report.links} links, {report.entries} entries, {head}"
    return (
        f"{name}: BROKEN at link #{report.broken_at}: {report.problem} "
        f"({report.links} links verified before it)"
    )


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def verify_all(databases: dict[str, str]) -> int:
    failed = 0
    for name, url in databases.items():
        try:
            report = await _verify(url)
        except Exception as exc:  # a chain that cannot be read is not a verified chain
            _say(f"{name}: cannot read the audit chain: {type(exc).__name__}: {exc}")
            failed += 1
            continue
        _say(_line(name, report))
        failed += not report.ok
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="audit-verify", description=__doc__)
    parser.add_argument(
        "databases",
        nargs="+",
        metavar="NAME=DATABASE_URL",
        help="a service's name and its database URL (SQLAlchemy form), e.g. intake=sqlite+aiosqlite:///intake.db",
    )
    args = parser.parse_args(argv)
    databases = {}
    for pair in args.databases:
        name, sep, url = pair.partition("=")
        if not sep or not url:
            parser.error(f"{pair!r} is not NAME=DATABASE_URL")
        databases[name] = url
    return asyncio.run(verify_all(databases))


if __name__ == "__main__":
    sys.exit(main())
