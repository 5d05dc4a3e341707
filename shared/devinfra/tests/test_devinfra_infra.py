"""Infrastructure with external endpoints, the CLI's detached servers, and leftover cleanup."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import asyncpg
import pytest
from complaint_devinfra import (
    Infrastructure,
    KafkaEndpoint,
    LocalKafka,
    LocalPostgres,
    PostgresEndpoint,
)
from complaint_devinfra._proc import pid_alive
from complaint_devinfra.infra import ENV_KAFKA, ENV_POSTGRES


def _wait_until(predicate: object, timeout: float) -> bool:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


async def test_external_endpoints_from_environment(
    local_kafka: KafkaEndpoint,
    local_postgres: PostgresEndpoint,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", local_kafka.bootstrap_servers)
    monkeypatch.setenv("PLATFORM_POSTGRES_URL", local_postgres.server_url)
    with Infrastructure(verbose=False) as infra:
        assert not infra.kafka.is_local
        assert infra.kafka.bootstrap_servers == local_kafka.bootstrap_servers
        infra.kafka.create_topics([("devinfra-external", 2)])
        url = infra.postgres.create_database("devinfra_external")
        assert url.endswith("/devinfra_external")
        conn = await asyncpg.connect(url.replace("+asyncpg", ""))
        assert await conn.fetchval("SELECT current_database()") == "devinfra_external"
        await conn.close()
    # Leaving the block must not have touched the servers it did not start.
    if isinstance(local_kafka, LocalKafka):
        assert local_kafka.is_running
    if isinstance(local_postgres, LocalPostgres):
        assert local_postgres.is_running


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    # This test is about servers the CLI starts itself, whatever the suite runs against.
    env = {k: v for k, v in os.environ.items() if k not in (ENV_KAFKA, ENV_POSTGRES)}
    return subprocess.run(
        [sys.executable, "-m", "complaint_devinfra.cli", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env=env,
    )


def test_cli_up_outlives_the_command_and_down_stops_it(tmp_path: Path) -> None:
    state_dir = tmp_path / "run"
    up = _cli("up", "--state-dir", str(state_dir))
    assert up.returncode == 0, up.stdout + up.stderr
    assert "starting Kafka 4.1.1 on 127.0.0.1:" in up.stdout
    assert "ready in" in up.stdout
    state = json.loads((state_dir / "infra.json").read_text())
    kafka_pid, pg_pid = state["kafka"]["pid"], state["postgres"]["pid"]
    # The command has exited; both servers must still be serving.
    assert pid_alive(kafka_pid)
    assert pid_alive(pg_pid)
    env = (state_dir / "infra.env").read_text()
    assert f"KAFKA_BOOTSTRAP_SERVERS={state['kafka']['bootstrap_servers']}" in env
    assert _cli("status", "--state-dir", str(state_dir)).returncode == 0

    down = _cli("down", "--state-dir", str(state_dir))
    assert down.returncode == 0, down.stdout + down.stderr
    assert _wait_until(lambda: not pid_alive(kafka_pid) and not pid_alive(pg_pid), 10)
    assert not Path(state["kafka"]["work_dir"]).exists()
    assert not Path(state["postgres"]["base_dir"]).exists()
    assert not (state_dir / "infra.json").exists()


_CHILD = textwrap.dedent(
    """
    import json, sys, time
    from complaint_devinfra import LocalPostgres
    pg = LocalPostgres(fsync=False)
    pg.start()
    print(json.dumps({"pid": pg.pid, "dir": str(pg.base_dir)}), flush=True)
    time.sleep(120)
    """
)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_servers_of_a_killed_process_are_cleaned_up(sig: signal.Signals) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD], stdout=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    try:
        assert child.stdout is not None
        info = json.loads(child.stdout.readline())
        assert pid_alive(info["pid"])
        child.send_signal(sig)
        assert child.wait(timeout=30) == -sig
        # SIGTERM: the in-process handler; SIGKILL: the watchdog's pipe reaches EOF.
        assert _wait_until(lambda: not pid_alive(info["pid"]), 15), "postmaster survived"
        assert _wait_until(lambda: not Path(info["dir"]).exists(), 15), "data dir left behind"
    finally:
        child.kill()
        child.wait()
