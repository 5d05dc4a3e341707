"""``platform-infra``: run Kafka and PostgreSQL in the background for ``make up``.

    platform-infra up --state-dir .run [--no-postgres] [--no-kafka]
    platform-infra status --state-dir .run
    platform-infra down --state-dir .run
    platform-infra fetch

``up`` starts detached servers (they outlive the command), waits until they
answer, and records them in ``<state-dir>/infra.json``; it also writes
``<state-dir>/infra.env`` (``KAFKA_BOOTSTRAP_SERVERS=...`` and
``PLATFORM_POSTGRES_URL=...``) for Makefiles and shells to source.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from complaint_devinfra import _proc
from complaint_devinfra._pg_os import as_user
from complaint_devinfra.infra import ENV_KAFKA, ENV_POSTGRES
from complaint_devinfra.kafka import LocalKafka
from complaint_devinfra.kafka_fetch import KAFKA_VERSION, ensure_kafka_libs
from complaint_devinfra.postgres import LocalPostgres, PostgresError

STATE_FILE = "infra.json"
ENV_FILE = "infra.env"


def _say(message: str) -> None:
    print(message, flush=True)


def _load_state(state_dir: Path) -> dict[str, Any]:
    path = state_dir / STATE_FILE
    if not path.is_file():
        return {}
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def _kafka_alive(entry: dict[str, Any]) -> bool:
    pid = entry.get("pid")
    if not pid or not _proc.pid_alive(int(pid)):
        return False
    # Guard against pid reuse: only a JVM running our server.properties counts.
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return "kafka.Kafka" in cmdline and str(entry.get("work_dir")) in cmdline


def _postgres_alive(entry: dict[str, Any]) -> bool:
    pid = entry.get("pid")
    if not pid or not _proc.pid_alive(int(pid)):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return str(entry.get("data_dir")) in cmdline


def cmd_up(args: argparse.Namespace) -> int:
    state_dir: Path = args.state_dir.resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    state = _load_state(state_dir)
    running = (not state.get("kafka") or _kafka_alive(state["kafka"])) and (
        not state.get("postgres") or _postgres_alive(state["postgres"])
    )
    if state and running:
        _say(f"already running (see {state_dir / STATE_FILE}); `platform-infra down` first")
        _print_env(state)
        return 0
    if state:
        _say("stale state from an earlier `up`: cleaning it first")
        cmd_down(args)
        state = {}

    state = {"state_dir": str(state_dir), "started_at": time.time()}
    try:
        if not args.no_kafka:
            state["kafka"] = _up_kafka(state_dir)
        if not args.no_postgres:
            state["postgres"] = _up_postgres(state_dir)
    except BaseException:
        _write_state(state_dir, state)  # so that `down` can clean up what did start
        _say("start failed; stopping what was started")
        cmd_down(args)
        raise
    _write_state(state_dir, state)
    _say(f"state written to {state_dir / STATE_FILE}; stop with `platform-infra down`")
    _print_env(state)
    return 0


def _up_kafka(state_dir: Path) -> dict[str, Any]:
    external = os.environ.get(ENV_KAFKA, "").strip()
    if external:
        _say(f"{ENV_KAFKA} is set: using Kafka at {external}, starting none")
        return {"external": True, "bootstrap_servers": external}
    ensure_kafka_libs()
    work_dir = state_dir / "kafka"
    shutil.rmtree(work_dir, ignore_errors=True)
    port = _proc.free_port()
    kafka = LocalKafka(port=port, work_dir=work_dir, detached=True)
    print(f"starting Kafka {KAFKA_VERSION} on 127.0.0.1:{port} ...", end="", flush=True)
    kafka.start()
    _say(f"ready in {kafka.last_startup_seconds:.1f} s (log: {kafka.log_path})")
    return kafka.describe()


def _up_postgres(state_dir: Path) -> dict[str, Any]:
    external = os.environ.get(ENV_POSTGRES, "").strip()
    if external:
        _say(f"{ENV_POSTGRES} is set: using that PostgreSQL, starting none")
        return {"external": True, "server_url": external}
    port = _proc.free_port()
    base_dir = state_dir / "postgres"
    shutil.rmtree(base_dir, ignore_errors=True)
    postgres = LocalPostgres(port=port, base_dir=base_dir, detached=True)
    print(f"starting PostgreSQL on 127.0.0.1:{port} ...", end="", flush=True)
    try:
        postgres.start()
    except PostgresError as exc:
        if "cannot reach" not in str(exc):
            raise
        # The state dir is not traversable for the server's OS user: use /tmp.
        shutil.rmtree(base_dir, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix="platform-pg-"))
        postgres = LocalPostgres(port=port, base_dir=tmp, detached=True)
        postgres.start()
    _say(f"ready in {postgres.last_startup_seconds:.1f} s (log: {postgres.log_path})")
    return postgres.describe()


def _write_state(state_dir: Path, state: dict[str, Any]) -> None:
    (state_dir / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n")
    lines = []
    if state.get("kafka"):
        lines.append(f"{ENV_KAFKA}={state['kafka']['bootstrap_servers']}")
    if state.get("postgres"):
        lines.append(f"{ENV_POSTGRES}={state['postgres']['server_url']}")
    (state_dir / ENV_FILE).write_text("".join(f"{line}\n" for line in lines))


def _print_env(state: dict[str, Any]) -> None:
    if state.get("kafka"):
        _say(f"  {ENV_KAFKA}={state['kafka']['bootstrap_servers']}")
    if state.get("postgres"):
        _say(f"  {ENV_POSTGRES}={state['postgres']['server_url']}")


def cmd_down(args: argparse.Namespace) -> int:
    state_dir: Path = args.state_dir.resolve()
    state = _load_state(state_dir)
    if not state:
        _say(f"nothing to stop ({state_dir / STATE_FILE} not found)")
        return 0
    kafka = state.get("kafka") or {}
    if kafka and not kafka.get("external"):
        _down_kafka(kafka)
    postgres = state.get("postgres") or {}
    if postgres and not postgres.get("external"):
        _down_postgres(postgres)
    for name in (STATE_FILE, ENV_FILE):
        (state_dir / name).unlink(missing_ok=True)
    return 0


def _down_kafka(entry: dict[str, Any]) -> None:
    if _kafka_alive(entry):
        pid = int(entry["pid"])
        print(f"stopping Kafka (pid {pid}) ...", end="", flush=True)
        started = time.monotonic()
        _proc.signal_group(pid, signal.SIGTERM)
        graceful = _wait_dead(pid, 30.0)
        if not graceful:
            _proc.signal_group(pid, signal.SIGKILL)
            _wait_dead(pid, 10.0)
        how = "stopped" if graceful else "killed after 30 s"
        _say(f"{how} in {time.monotonic() - started:.1f} s")
    else:
        _say("Kafka is not running")
    if entry.get("work_dir"):
        shutil.rmtree(entry["work_dir"], ignore_errors=True)


def _down_postgres(entry: dict[str, Any]) -> None:
    if _postgres_alive(entry):
        pid = int(entry["pid"])
        print(f"stopping PostgreSQL (pid {pid}) ...", end="", flush=True)
        started = time.monotonic()
        pg_ctl = str(Path(entry["bindir"]) / "pg_ctl")
        command = as_user(
            entry.get("os_user"),
            [pg_ctl, "-D", entry["data_dir"], "-m", "fast", "-w", "-t", "60", "stop"],
        )
        subprocess.run(command, capture_output=True, cwd="/", check=False)
        if not _wait_dead(pid, 5.0):
            os.kill(pid, signal.SIGQUIT)
            _wait_dead(pid, 10.0)
        _say(f"stopped in {time.monotonic() - started:.1f} s")
    else:
        _say("PostgreSQL is not running")
    if entry.get("base_dir"):
        shutil.rmtree(entry["base_dir"], ignore_errors=True)


def _wait_dead(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _proc.pid_alive(pid):
            return True
        time.sleep(0.05)
    return not _proc.pid_alive(pid)


def cmd_status(args: argparse.Namespace) -> int:
    state = _load_state(args.state_dir.resolve())
    if not state:
        _say("not running")
        return 1
    ok = True
    for name, alive in (("kafka", _kafka_alive), ("postgres", _postgres_alive)):
        entry = state.get(name)
        if not entry:
            continue
        up = bool(entry.get("external")) or alive(entry)
        ok = ok and up
        where = entry.get("bootstrap_servers") or entry.get("server_url")
        _say(f"{name}: {'running' if up else 'NOT running'} ({where})")
    return 0 if ok else 1


def cmd_fetch(_args: argparse.Namespace) -> int:
    libs = ensure_kafka_libs()
    _say(f"Kafka {KAFKA_VERSION} jars in {libs}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="platform-infra",
        description="Start/stop local Apache Kafka and PostgreSQL for development.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, handler, help_text in (
        ("up", cmd_up, "start Kafka and PostgreSQL in the background"),
        ("down", cmd_down, "stop what `up` started and delete its data"),
        ("status", cmd_status, "tell whether what `up` started is still running"),
        ("fetch", cmd_fetch, f"only fetch the Kafka {KAFKA_VERSION} jars"),
    ):
        command = sub.add_parser(name, help=help_text)
        command.set_defaults(handler=handler)
        if name != "fetch":
            command.add_argument("--state-dir", type=Path, default=Path(".run"))
        if name == "up":
            command.add_argument("--no-postgres", action="store_true")
            command.add_argument("--no-kafka", action="store_true")
    args = parser.parse_args(argv)
    result: int = args.handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
