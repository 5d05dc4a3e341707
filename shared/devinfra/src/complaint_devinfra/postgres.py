"""A private, throw-away PostgreSQL cluster as a local process (or an external server)."""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from complaint_devinfra import _proc
from complaint_devinfra._pg_os import (
    PostgresSetupError,
    as_user,
    find_pg_bindir,
    give_to,
    server_os_user,
    user_can_write,
)

__all__ = ["LocalPostgres", "PostgresEndpoint", "PostgresError", "PostgresSetupError"]


class PostgresError(RuntimeError):
    """The cluster could not be created, started or stopped."""


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PostgresEndpoint:
    """A PostgreSQL server somebody else runs (``PLATFORM_POSTGRES_URL``).

    ``server_url`` is a libpq-style URL without a database, e.g.
    ``postgresql://user:pw@host:5432``. :class:`LocalPostgres` extends it.
    """

    is_local = False

    def __init__(self, server_url: str) -> None:
        parts = urlsplit(server_url)
        if not parts.hostname:
            raise ValueError(f"not a PostgreSQL server URL: {server_url!r}")
        self._server_url = urlunsplit(("postgresql", parts.netloc, "", "", ""))
        # A database in the URL is used for CREATE DATABASE instead of `postgres`.
        self._maintenance_db = parts.path.strip("/") or "postgres"

    @property
    def server_url(self) -> str:
        return self._server_url

    @property
    def log_path(self) -> Path | None:
        return None

    def log_tail(self, _lines: int = 60) -> str:
        return "(external PostgreSQL: no server log available)"

    def start(self) -> None:
        """Nothing to start for an external server."""

    def stop(self) -> None:
        """Nothing to stop for an external server."""

    def destroy(self) -> None:
        """Nothing to remove for an external server."""

    def database_url(self, name: str, *, driver: str = "asyncpg") -> str:
        """SQLAlchemy URL of database ``name`` (``postgresql+asyncpg://...``)."""
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        return urlunsplit((scheme, urlsplit(self.server_url).netloc, f"/{name}", "", ""))

    def create_database(self, name: str) -> str:
        """Create ``name`` unless it exists; return its SQLAlchemy asyncpg URL."""
        return _proc.run_sync(lambda: self.create_database_async(name))

    async def create_database_async(self, name: str) -> str:
        import asyncpg

        conn = await asyncpg.connect(self._dsn(self._maintenance_db))
        try:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                # Two processes may race for the same name; the loser just reuses it.
                with contextlib.suppress(asyncpg.DuplicateDatabaseError):
                    await conn.execute(f"CREATE DATABASE {_quote_ident(name)}")
        finally:
            await conn.close()
        return self.database_url(name)

    def drop_database(self, name: str) -> None:
        _proc.run_sync(lambda: self.drop_database_async(name))

    async def drop_database_async(self, name: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(self._dsn(self._maintenance_db))
        try:
            await conn.execute(f"DROP DATABASE IF EXISTS {_quote_ident(name)} WITH (FORCE)")
        finally:
            await conn.close()

    def _dsn(self, database: str) -> str:
        return urlunsplit(("postgresql", urlsplit(self.server_url).netloc, f"/{database}", "", ""))

    def __enter__(self) -> PostgresEndpoint:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.destroy()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(server_url={self.server_url!r})"


class LocalPostgres(PostgresEndpoint):
    """A cluster of its own in a temp dir: ``initdb`` once, then ``pg_ctl`` start/stop.

    ``stop()`` (or ``kill()``) followed by ``start()`` reuses the same port
    and data directory, so committed data survives, as a fault test needs.
    """

    is_local = True
    superuser = "postgres"

    def __init__(
        self,
        *,
        port: int | None = None,
        base_dir: Path | None = None,
        fsync: bool = True,
        settings: Mapping[str, str] | None = None,
        startup_timeout: float = 60.0,
        detached: bool = False,
    ) -> None:
        """``fsync=True`` is the production-like default; ``detached`` is for the CLI."""
        self._port = port
        self._owns_base_dir = base_dir is None
        self._base_dir = base_dir
        self.fsync = fsync
        self._settings = dict(settings or {})
        self._startup_timeout = startup_timeout
        self._detached = detached
        self._bindir: Path | None = None
        self._user: str | None = None
        self._pid: int | None = None
        self._maintenance_db = "postgres"
        self.last_startup_seconds: float | None = None

    # ------------------------------------------------------------------ properties

    @property
    def server_url(self) -> str:
        if self._port is None:
            raise PostgresError("LocalPostgres has not been started yet")
        return f"postgresql://{self.superuser}@127.0.0.1:{self._port}"

    @property
    def port(self) -> int | None:
        return self._port

    @property
    def base_dir(self) -> Path | None:
        return self._base_dir

    @property
    def data_dir(self) -> Path | None:
        return None if self._base_dir is None else self._base_dir / "data"

    @property
    def socket_dir(self) -> Path | None:
        return None if self._base_dir is None else self._base_dir / "sock"

    @property
    def log_path(self) -> Path | None:
        return None if self._base_dir is None else self._base_dir / "postgres.log"

    @property
    def os_user(self) -> str | None:
        """The OS account the server runs as (None: the current user)."""
        return self._user

    @property
    def pid(self) -> int | None:
        return self._pid

    @property
    def is_running(self) -> bool:
        return self._pid is not None and _proc.pid_alive(self._pid)

    def log_tail(self, lines: int = 60) -> str:
        return _proc.tail(self.log_path, lines)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """initdb on first start, then ``pg_ctl -w start``; returns once it accepts connections."""
        if self.is_running:
            return
        started = time.monotonic()
        self._bindir = self._bindir or find_pg_bindir()
        self._user = server_os_user()
        base = self._prepare_base_dir()
        if self.data_dir is None:
            raise RuntimeError("data_dir is not set yet")
        if self.socket_dir is None:
            raise RuntimeError("socket_dir is not set yet")
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        self._port = self._port or _proc.free_port()
        self._write_settings()
        timeout = str(int(self._startup_timeout))
        try:
            self._pg_ctl("start", "-w", "-t", timeout, "-l", str(self.log_path))
        except PostgresError:
            # On a time-out the postmaster may still be coming up: do not leave it behind.
            with contextlib.suppress(PostgresError):
                self._pg_ctl("stop", "-m", "immediate", "-w", "-t", "10")
            raise
        self._pid = self._read_postmaster_pid()
        # pg_ctl starts the postmaster with setsid(), so its pid is its process group.
        if not self._detached:
            _proc.track_group(self._pid, _proc.SIGNAL_POSTGRES)
            if self._owns_base_dir:
                _proc.track_dir(base)
        self.last_startup_seconds = time.monotonic() - started

    def stop(self, mode: str = "fast") -> None:
        """``pg_ctl stop -m fast`` (``mode="immediate"`` skips the checkpoint)."""
        if self._pid is None:
            return
        if self.is_running:
            try:
                self._pg_ctl("stop", "-w", "-t", "60", "-m", mode)
            except PostgresError:
                if self.is_running:
                    _proc.stop_group(self._pid, sig=signal.SIGQUIT, timeout=10.0)
        _proc.untrack_group(self._pid)
        self._pid = None

    def kill(self) -> None:
        """SIGKILL the postmaster and its backends, as a crash would; ``start()`` recovers."""
        if self._pid is None:
            return
        # Every postmaster child calls setsid(), so killing the postmaster's group
        # is not enough; a surviving backend would keep the shared memory attached
        # and make the next start() fail.
        victims = [self._pid, *_proc.child_pids(self._pid)]
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10.0
        while any(_proc.pid_alive(pid) for pid in victims) and time.monotonic() < deadline:
            time.sleep(0.02)
        self._drop_stale_locks()
        _proc.untrack_group(self._pid)
        self._pid = None

    def destroy(self) -> None:
        """Stop the server and delete the cluster (only when the directory was ours)."""
        self.stop(mode="immediate")
        if self._base_dir is not None and self._owns_base_dir:
            shutil.rmtree(self._base_dir, ignore_errors=True)
            _proc.untrack_dir(self._base_dir)

    def describe(self) -> dict[str, Any]:
        """What the CLI records in infra.json."""
        return {
            "pid": self._pid,
            "port": self._port,
            "server_url": self.server_url,
            "base_dir": str(self._base_dir),
            "data_dir": str(self.data_dir),
            "log_path": str(self.log_path),
            "bindir": str(self._bindir),
            "os_user": self._user,
        }

    # ------------------------------------------------------------------ internals

    def _prepare_base_dir(self) -> Path:
        if self._base_dir is None:
            # mkdtemp makes it 0700 and we chown it below; /tmp itself is traversable.
            self._base_dir = Path(tempfile.mkdtemp(prefix="platform-pg-"))
        base = self._base_dir
        if self.socket_dir is None:
            raise RuntimeError("socket_dir is not set yet")
        base.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        give_to(self._user, base, self.socket_dir)
        if not user_can_write(self._user, base):
            raise PostgresError(
                f"user {self._user or getpass.getuser()} cannot reach {base}: "
                "every parent directory must be traversable (o+x)"
            )
        return base

    def _run(self, command: list[str], what: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            as_user(self._user, command),
            capture_output=True,
            text=True,
            cwd=self._base_dir,  # the server user may not be able to enter our cwd
            check=False,
        )
        if result.returncode != 0:
            log = f"\nserver log:\n{self.log_tail(30)}" if what.startswith("pg_ctl") else ""
            raise PostgresError(
                f"{what} failed ({result.returncode}):\n{result.stdout}{result.stderr}{log}"
            )
        return result

    def _initdb(self) -> None:
        if self._bindir is None:
            raise RuntimeError("_bindir is not set yet")
        self._run(
            [
                str(self._bindir / "initdb"),
                "-D",
                str(self.data_dir),
                "-A",
                "trust",
                "-U",
                self.superuser,
                "-E",
                "UTF8",
                "--locale=C",
                # Only initdb's own flush; the running server honours `fsync`.
                "--no-sync",
            ],
            "initdb",
        )
        if self.data_dir is None:
            raise RuntimeError("data_dir is not set yet")
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\ninclude_if_exists = 'platform.conf'\n")

    def _write_settings(self) -> None:
        if self.data_dir is None:
            raise RuntimeError("data_dir is not set yet")
        if self.socket_dir is None:
            raise RuntimeError("socket_dir is not set yet")
        durable = "on" if self.fsync else "off"
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self._port),
            "unix_socket_directories": f"'{self.socket_dir}'",
            "fsync": durable,
            "synchronous_commit": durable,
            "full_page_writes": durable,
            "max_connections": "200",
            "shared_buffers": "'128MB'",
            "timezone": "'UTC'",
            "log_timezone": "'UTC'",
            "log_line_prefix": "'%m [%p] %q%u@%d '",
        }
        settings.update(self._settings)
        path = self.data_dir / "platform.conf"
        path.write_text("".join(f"{key} = {value}\n" for key, value in settings.items()))
        give_to(self._user, path)

    def _pg_ctl(self, action: str, *options: str) -> None:
        if self._bindir is None:
            raise RuntimeError("_bindir is not set yet")
        self._run(
            [str(self._bindir / "pg_ctl"), "-D", str(self.data_dir), *options, action],
            f"pg_ctl {action}",
        )

    def _drop_stale_locks(self) -> None:
        # Until init reaps the dead postmaster (seconds on some sandboxes) its
        # zombie pid makes the next postmaster refuse the stale lock files. All
        # processes are dead and detached from shared memory, so we do what
        # PostgreSQL would do with a stale lock: drop the lock files and the
        # interlock SysV segment recorded in postmaster.pid (line 7: key shmid).
        if self.data_dir is None:
            raise RuntimeError("data_dir is not set yet")
        if self.socket_dir is None:
            raise RuntimeError("socket_dir is not set yet")
        lock = self.data_dir / "postmaster.pid"
        try:
            lines = lock.read_text().splitlines()
        except FileNotFoundError:
            lines = []
        if len(lines) >= 7 and len(lines[6].split()) == 2:
            subprocess.run(["ipcrm", "-m", lines[6].split()[1]], capture_output=True, check=False)
        for path in (lock, self.socket_dir / f".s.PGSQL.{self._port}.lock"):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def _read_postmaster_pid(self) -> int:
        if self.data_dir is None:
            raise RuntimeError("data_dir is not set yet")
        try:
            return int((self.data_dir / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError) as exc:
            raise PostgresError(f"cannot read postmaster.pid after start: {exc}") from exc
