"""Operating-system side of the PostgreSQL launcher: binaries and the OS user.

``initdb`` and ``postgres`` refuse to run as root, and CI runs as root, so
when euid is 0 every PostgreSQL command runs as an unprivileged user through
``runuser``.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import sys
from pathlib import Path

DEBIAN_PACKAGE = "postgresql"
_CREATED_USER = "platform-pg"


class PostgresSetupError(RuntimeError):
    """PostgreSQL binaries or a usable OS user could not be found."""


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))


def _candidate_bindirs() -> list[Path]:
    found: list[Path] = []
    configured = os.environ.get("PLATFORM_PG_BINDIR")
    if configured:
        found.append(Path(configured))
    found.extend(sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True))
    pg_config = shutil.which("pg_config")
    if pg_config:
        result = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        )
        if result.returncode == 0 and result.stdout.strip():
            found.append(Path(result.stdout.strip()))
    initdb = shutil.which("initdb")
    if initdb:
        found.append(Path(initdb).parent)
    return found


def _usable(bindir: Path) -> bool:
    return all((bindir / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres"))


def find_pg_bindir(*, install: bool = True) -> Path:
    """The newest PostgreSQL server ``bin`` directory; apt-installs it when root."""
    for bindir in _candidate_bindirs():
        if _usable(bindir):
            return bindir
    if not install:
        raise PostgresSetupError("PostgreSQL server binaries (initdb, pg_ctl) not found")
    if os.geteuid() != 0:
        raise PostgresSetupError(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found. Install the "
            f"Debian package `{DEBIAN_PACKAGE}` (sudo apt-get install -y {DEBIAN_PACKAGE}), "
            "or set PLATFORM_PG_BINDIR, or point PLATFORM_POSTGRES_URL at a running server."
        )
    _apt_install(DEBIAN_PACKAGE)
    for bindir in _candidate_bindirs():
        if _usable(bindir):
            return bindir
    raise PostgresSetupError(f"`apt-get install {DEBIAN_PACKAGE}` did not provide initdb/pg_ctl")


def _apt_install(package: str) -> None:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for step in (["apt-get", "update"], ["apt-get", "install", "-y", package]):
        _log(f"PostgreSQL not found; running `{' '.join(step)}` ...")
        result = subprocess.run(step, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise PostgresSetupError(
                f"`{' '.join(step)}` failed ({result.returncode}):\n{result.stderr[-3000:]}"
            )
    _log(f"installed Debian package {package}")


def server_os_user() -> str | None:
    """The unprivileged user to run PostgreSQL as, or None when we are not root.

    Reuses Debian's ``postgres`` account when present (it already exists
    wherever the server package is installed), else creates a system account.
    """
    if os.geteuid() != 0:
        return None
    preferred = os.environ.get("PLATFORM_PG_OS_USER")
    for name in filter(None, [preferred, "postgres", _CREATED_USER]):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    if preferred:
        raise PostgresSetupError(f"PLATFORM_PG_OS_USER={preferred} does not exist")
    result = subprocess.run(
        [
            "useradd",
            "--system",
            "--no-create-home",
            "--user-group",
            "--shell",
            "/usr/sbin/nologin",
            _CREATED_USER,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 and "already exists" not in result.stderr:
        raise PostgresSetupError(f"useradd {_CREATED_USER} failed: {result.stderr.strip()}")
    _log(f"created system user {_CREATED_USER} to run PostgreSQL (initdb refuses root)")
    return _CREATED_USER


def as_user(user: str | None, command: list[str]) -> list[str]:
    """Prefix ``command`` so that it runs as ``user`` (unchanged when ``user`` is None)."""
    if user is None:
        return command
    return ["runuser", "-u", user, "--", *command]


def give_to(user: str | None, *paths: Path) -> None:
    """chown paths (not recursively) to ``user`` so PostgreSQL can write there."""
    if user is None:
        return
    entry = pwd.getpwnam(user)
    for path in paths:
        os.chown(path, entry.pw_uid, entry.pw_gid)


def user_can_write(user: str | None, directory: Path) -> bool:
    """Whether ``user`` can reach and write ``directory`` (every parent traversable)."""
    if user is None:
        return os.access(directory, os.W_OK | os.X_OK)
    result = subprocess.run(
        as_user(user, ["test", "-w", str(directory), "-a", "-x", str(directory)]),
        capture_output=True,
        check=False,
    )
    return result.returncode == 0
