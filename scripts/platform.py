"""`make up` / `make down`: run the platform on this machine as local processes.

Kafka (and PostgreSQL with --postgres) come from `platform-infra`; each service runs under
uvicorn on its own loopback port with its own database (SQLite files by default). What is
running is recorded in .run/ so `make down` can stop it, and the URLs, the development API
key and the Kafka address are written to .run/platform.env for scripts.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / ".run"
BIN = ROOT / ".venv" / "bin"
SERVICES = {  # name → (app factory, preferred port)
    "intake": ("intake.main:create_app", 8001),
    "routing": ("routing.main:create_app", 8002),
}


def say(message: str) -> None:
    print(f"[platform] {message}", flush=True)


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_port(preferred: int) -> int:
    if port_free(preferred):
        return preferred
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def read_env_file(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key: value for key, value in pairs}


def write_env_file(path: Path, values: dict[str, str]) -> None:
    path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
    path.chmod(0o600)


def secrets() -> dict[str, str]:
    """Development secrets, made once and kept in .run/secrets.env (git-ignored)."""
    path = RUN / "secrets.env"
    found = read_env_file(path)
    if not found:
        output = subprocess.run(
            [BIN / "intake-admin", "generate-keys"], check=True, capture_output=True, text=True
        ).stdout
        found = dict(line.split("=", 1) for line in output.split())
        write_env_file(path, found)
    return found


def wait_ready(name: str, url: str, log: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:]) if log.exists() else ""
    raise SystemExit(f"{name} did not become ready within {timeout_s:.0f} s; log {log}:\n{tail}")


def up(use_postgres: bool) -> None:
    started = time.monotonic()
    if (RUN / "services.json").exists():
        say("already running (make down first); current settings in .run/platform.env")
        return
    RUN.mkdir(exist_ok=True)
    (RUN / "logs").mkdir(exist_ok=True)
    infra_args = [str(BIN / "platform-infra"), "up", "--state-dir", str(RUN)]
    if not use_postgres:
        infra_args.append("--no-postgres")
    say("starting Kafka" + (" and PostgreSQL" if use_postgres else ""))
    subprocess.run(infra_args, check=True)
    infra = json.loads((RUN / "infra.json").read_text())
    bootstrap = infra["kafka"]["bootstrap_servers"]
    keys = secrets()
    running: dict[str, dict[str, object]] = {}
    urls: dict[str, str] = {}
    for name, (factory, preferred) in SERVICES.items():
        port = free_port(preferred)
        url = f"http://127.0.0.1:{port}"
        database_url = database_for(name, infra if use_postgres else None)
        env = {
            **os.environ,
            **keys,
            "SERVICE_NAME": name,
            "DATABASE_URL": database_url,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "PUBLIC_BASE_URL": url,
            "LOG_JSON": "true",
        }
        log = RUN / "logs" / f"{name}.log"
        say(f"starting {name} on {url} ({'PostgreSQL' if use_postgres else 'SQLite'})")
        with log.open("ab") as out:
            process = subprocess.Popen(
                [
                    str(BIN / "uvicorn"),
                    "--factory",
                    factory,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--no-access-log",
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=ROOT,
            )
        running[name] = {"pid": process.pid, "url": url, "log": str(log), "database": database_url}
        urls[name] = url
        (RUN / "services.json").write_text(json.dumps(running, indent=2))
    for name, info in running.items():
        wait_ready(name, str(info["url"]), Path(str(info["log"])))
        say(f"{name} ready")
    api_key = dev_api_key(str(running["intake"]["database"]), keys)
    env_values = {
        "INTAKE_URL": urls["intake"],
        "ROUTING_URL": urls["routing"],
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "INTAKE_API_KEY": api_key,
    }
    write_env_file(RUN / "platform.env", env_values)
    print()
    for key, value in env_values.items():
        print(f"  {key}={value}")
    print(f"\n  logs: {RUN / 'logs'}   settings for scripts: {RUN / 'platform.env'}")
    print(f"  up in {time.monotonic() - started:.1f} s; stop with `make down`\n")


def database_for(name: str, infra: dict[str, dict[str, str]] | None) -> str:
    if infra is None:
        return f"sqlite+aiosqlite:///{RUN / (name + '.db')}"
    server = infra["postgres"]["server_url"].replace("postgresql://", "postgresql+asyncpg://")
    subprocess.run(
        [
            str(BIN / "python"),
            "-c",
            "import asyncio, asyncpg, sys\n"
            "async def main():\n"
            "    c = await asyncpg.connect(sys.argv[1] + '/postgres')\n"
            "    q = 'SELECT 1 FROM pg_database WHERE datname=$1'\n"
            "    if not await c.fetchval(q, sys.argv[2]):\n"
            "        await c.execute(f'CREATE DATABASE \"{sys.argv[2]}\"')\n"
            "    await c.close()\n"
            "asyncio.run(main())\n",
            infra["postgres"]["server_url"],
            name.replace("-", "_"),
        ],
        check=True,
    )
    return f"{server}/{name.replace('-', '_')}"


def dev_api_key(database_url: str, keys: dict[str, str]) -> str:
    path = RUN / "dev-api-key"
    if path.exists():
        return path.read_text().strip()
    key = subprocess.run(
        [str(BIN / "intake-admin"), "create-api-key", "--label", "development", "--channels", "*"],
        env={**os.environ, **keys, "DATABASE_URL": database_url},
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    path.write_text(key)
    path.chmod(0o600)
    return key


def down() -> None:
    services_file = RUN / "services.json"
    if services_file.exists():
        for name, info in json.loads(services_file.read_text()).items():
            stop_process(name, int(info["pid"]))
        services_file.unlink()
    if (RUN / "infra.json").exists():
        subprocess.run([str(BIN / "platform-infra"), "down", "--state-dir", str(RUN)], check=False)
    # Databases of a stopped platform are throw-away, like the Kafka data.
    for leftover in [*RUN.glob("*.db*"), RUN / "dev-api-key"]:
        leftover.unlink(missing_ok=True)
    say("stopped")


def stop_process(name: str, pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(100):
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            say(f"{name} stopped")
            return
        time.sleep(0.1)
    os.killpg(pid, signal.SIGKILL)
    say(f"{name} killed after 10 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["up", "down"])
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    args = parser.parse_args()
    up(args.postgres) if args.command == "up" else down()


if __name__ == "__main__":
    sys.exit(main())
