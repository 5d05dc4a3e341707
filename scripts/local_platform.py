"""`make up` / `make down`: run the platform on this machine as local processes.

Kafka (and PostgreSQL with --postgres) come from `platform-infra`; each service runs under
uvicorn on its own loopback port with its own database (SQLite files by default). What is
running is recorded in .run/ so `make down` can stop it, and the URLs, the development API
key and the Kafka address are written to .run/platform.env for scripts.

notify's outgoing channels go to local fakes (`complaint_devinfra.fake_receivers`): SMS to a
fake Alibaba Cloud API (which pushes delivery receipts back), staff notices to fake WeCom,
DingTalk and Feishu robots, webhooks to a fake receiver subscribed to every event; each
records what it got in .run/outbox/, and `make outbox` lists it with the e-mails.
"""

from __future__ import annotations

import argparse
import json
import mailbox
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from email.header import decode_header, make_header
from pathlib import Path
from secrets import token_urlsafe
from typing import TYPE_CHECKING

from local_channels import (
    FAKES_PORT,
    fake_receivers_env,
    notify_channel_settings,
    outbox,
    subscribe_fake_webhook,
)

if TYPE_CHECKING:
    from complaint_runtime.dev_identity import DevIdentity

ROOT = Path(__file__).resolve().parent.parent
RUN = Path(os.environ.get("PLATFORM_STATE_DIR", ROOT / ".run")).resolve()
BIN = ROOT / ".venv" / "bin"
SERVICES = {  # name → (app factory, preferred port)
    "intake": ("intake.main:create_app", 8001),
    "routing": ("routing.main:create_app", 8002),
    "sla-watch": ("sla_watch.main:create_app", 8003),
    "feedback": ("feedback.main:create_app", 8004),
    "notify": ("notify.main:create_app", 8005),
    "console": ("console.main:create_app", 8006),
}
SMTP_PORT = 8025
# Development teams, one agent and one lead each (the admin API comes with the full
# assignment engine); tokens for them are printed by `make up`.
TEAMS = (
    "quality",
    "service",
    "logistics",
    "billing",
    "privacy",
    "tech-support",
    "policy",
    "general",
)


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
    return {key: _unquoted(value) for key, value in pairs}


def _unquoted(value: str) -> str:
    # A value written by write_env_file in shell quotes (a JSON key, say).
    return shlex.split(value)[0] if value.startswith("'") else value


def write_env_file(path: Path, values: dict[str, str]) -> None:
    """KEY=value lines a shell can source (`set -a; . file`): a value with characters the
    shell would read (braces, quotes, spaces: a JSON key) is single-quoted."""
    path.write_text("".join(f"{key}={shlex.quote(value)}\n" for key, value in values.items()))
    path.chmod(0o600)


def secrets() -> dict[str, str]:
    """Development secrets, made once and kept in .run/secrets.env (git-ignored)."""
    path = RUN / "secrets.env"
    found = read_env_file(path)
    if "CONTACT_ENCRYPTION_KEY" not in found:
        output = subprocess.run(
            [BIN / "intake-admin", "generate-keys"], check=True, capture_output=True, text=True
        ).stdout
        found.update(line.split("=", 1) for line in output.split())
    found.setdefault("FEEDBACK_LINK_SECRET", token_urlsafe(32))
    # notify's fake SMS provider and robots check these exactly as the real ones would.
    found.setdefault("NOTIFY_SMS_ACCESS_KEY_ID", "LTAIdev" + token_urlsafe(9))
    found.setdefault("NOTIFY_SMS_ACCESS_KEY_SECRET", token_urlsafe(24))
    found.setdefault("NOTIFY_SMS_CALLBACK_TOKEN", token_urlsafe(32))
    found.setdefault("DEV_DINGTALK_SECRET", "SEC" + token_urlsafe(32))
    found.setdefault("DEV_FEISHU_SECRET", token_urlsafe(24))
    # Token keys: a stand-in for the identity provider, and each service's own key pair.
    if "DEV_IDENTITY" not in found:
        from complaint_runtime.dev_identity import DevIdentity

        found["DEV_IDENTITY"] = DevIdentity.generate().to_json()
    write_env_file(path, found)
    return found


def wait_ready(name: str, url: str, log: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            # S310: the URL is the platform's own http://127.0.0.1 service.
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:]) if log.exists() else ""
    raise SystemExit(f"{name} did not become ready within {timeout_s:.0f} s; log {log}:\n{tail}")


def service_settings(urls: dict[str, str], keys: dict[str, str]) -> dict[str, dict[str, str]]:
    """Each service's own environment for a development run."""
    agents = [{"id": f"agent-{t}", "team": t, "level": "senior", "capacity": 20} for t in TEAMS]
    # Escalations (§3): level 1 the team lead, 2 the team's manager, 3 the senior group.
    senior_group = ["senior-1", "senior-2"]
    directory = {
        "users": {
            user: {"email": f"{user}@staff.example.com", "name": user, "language": "zh-CN"}
            for user in [
                *(f"{role}-{team}" for team in TEAMS for role in ("agent", "lead", "manager")),
                *senior_group,
            ]
        },
        "team_leads": {team: f"lead-{team}" for team in TEAMS},
        "managers": {team: f"manager-{team}" for team in TEAMS},
        "escalation_group": senior_group,
    }
    return {
        "intake": {
            "CONTACT_ENCRYPTION_KEY": keys["CONTACT_ENCRYPTION_KEY"],
            "CUSTOMER_REF_KEY": keys["CUSTOMER_REF_KEY"],
        },
        # intake's internal API: a lead's or manager's reveal of a customer's raw contact.
        "routing": {"ROUTING_AGENTS": json.dumps(agents), "INTAKE_INTERNAL_URL": urls["intake"]},
        "sla-watch": {},
        "feedback": {"FEEDBACK_LINK_SECRET": keys["FEEDBACK_LINK_SECRET"]},
        "notify": {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": keys["SMTP_PORT"],
            "SMTP_FROM": "complaints@platform.example.com",
            "INTAKE_INTERNAL_URL": urls["intake"],
            "FEEDBACK_INTERNAL_URL": urls["feedback"],
            "NOTIFY_STAFF_DIRECTORY": json.dumps(directory),
            **notify_channel_settings(keys),
        },
        # The development sign-in page takes the role tokens printed below; no TLS here.
        "console": {
            "CONSOLE_DEV_SIGN_IN": "true",
            "CONSOLE_COOKIE_SECURE": "false",
            "CONSOLE_ROUTING_URL": urls["routing"],
            "CONSOLE_SLA_WATCH_URL": urls["sla-watch"],
        },
    }


def start_fake_receivers(urls: dict[str, str], keys: dict[str, str]) -> dict[str, object]:
    """The fake SMS provider, robots and webhook receiver, recording into .run/outbox."""
    port = keys["FAKES_URL"].rsplit(":", 1)[1]
    env = {**os.environ, **fake_receivers_env(urls["notify"], keys)}
    command = [str(BIN / "python"), "-m", "complaint_devinfra.fake_receivers"]
    return {
        **start_process("fakes", [*command, "--port", port, "--record", str(RUN / "outbox")], env),
        "url": keys["FAKES_URL"],
    }


def start_process(name: str, command: list[str], env: dict[str, str]) -> dict[str, object]:
    log = RUN / "logs" / f"{name}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            command,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=ROOT,
        )
    return {"pid": process.pid, "log": str(log)}


def up(use_postgres: bool) -> None:
    started = time.monotonic()
    if (RUN / "services.json").exists():
        say(f"already running (make down first); settings in {RUN / 'platform.env'}")
        return
    (RUN / "logs").mkdir(parents=True, exist_ok=True)
    mailbox.Maildir(RUN / "mail", create=True)  # cur/, new/, tmp/ for the mail server
    infra_args = [str(BIN / "platform-infra"), "up", "--state-dir", str(RUN)]
    if not use_postgres:
        infra_args.append("--no-postgres")
    say("starting Kafka" + (" and PostgreSQL" if use_postgres else ""))
    subprocess.run(infra_args, check=True)
    infra = json.loads((RUN / "infra.json").read_text())
    bootstrap = infra["kafka"]["bootstrap_servers"]
    keys = secrets()
    keys["SMTP_PORT"] = str(free_port(SMTP_PORT))
    keys["FAKES_URL"] = f"http://127.0.0.1:{free_port(FAKES_PORT)}"
    running: dict[str, dict[str, object]] = {}
    say(f"starting the development mail server on 127.0.0.1:{keys['SMTP_PORT']}")
    running["mail"] = start_process(
        "mail",
        [
            str(BIN / "python"),
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{keys['SMTP_PORT']}",
            "-c",
            "aiosmtpd.handlers.Mailbox",
            str(RUN / "mail"),
        ],
        dict(os.environ),
    )
    (RUN / "services.json").write_text(json.dumps(running, indent=2))
    urls = {name: f"http://127.0.0.1:{free_port(port)}" for name, (_, port) in SERVICES.items()}
    say(f"starting the fake SMS provider, robots and webhook receiver on {keys['FAKES_URL']}")
    running["fakes"] = start_fake_receivers(urls, keys)
    (RUN / "services.json").write_text(json.dumps(running, indent=2))
    own = service_settings(urls, keys)
    identity = dev_identity(keys)
    for name, (factory, _) in SERVICES.items():
        database_url = database_for(name, infra if use_postgres else None)
        env = {
            **os.environ,
            **own[name],
            "SERVICE_NAME": name,
            "DATABASE_URL": database_url,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            **identity.env(name),  # every public key; the service's own private key
            "PUBLIC_BASE_URL": urls[name],
            "LOG_JSON": "true",
        }
        port = urls[name].rsplit(":", 1)[1]
        say(f"starting {name} on {urls[name]} ({'PostgreSQL' if use_postgres else 'SQLite'})")
        running[name] = {
            **start_process(
                name,
                [
                    str(BIN / "uvicorn"),
                    "--factory",
                    factory,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    port,
                    "--no-access-log",
                ],
                env,
            ),
            "url": urls[name],
            "database": database_url,
        }
        (RUN / "services.json").write_text(json.dumps(running, indent=2))
    for name in [*SERVICES, "fakes"]:
        info = running[name]
        wait_ready(name, str(info["url"]), Path(str(info["log"])))
        say(f"{name} ready")
    api_key = dev_api_key(str(running["intake"]["database"]), keys)
    tokens = role_tokens(identity)
    subscribe_fake_webhook(urls["notify"], keys["FAKES_URL"], tokens["ADMIN_TOKEN"])
    env_values = {
        "INTAKE_URL": urls["intake"],
        "ROUTING_URL": urls["routing"],
        "SLA_WATCH_URL": urls["sla-watch"],
        "FEEDBACK_URL": urls["feedback"],
        "NOTIFY_URL": urls["notify"],
        "CONSOLE_URL": urls["console"],
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "INTAKE_API_KEY": api_key,
        "SMTP_URL": f"smtp://127.0.0.1:{keys['SMTP_PORT']}",
        "MAIL_DIR": str(RUN / "mail"),
        "FAKE_RECEIVERS_URL": keys["FAKES_URL"],
        "OUTBOX_DIR": str(RUN / "outbox"),
        **tokens,
        # Signs more development staff tokens: `routing-admin issue-token`.
        "DEV_ISSUER_SIGNING_KEY": identity.staff.private_jwk(),
    }
    write_env_file(RUN / "platform.env", env_values)
    print()
    for key, value in env_values.items():
        if key == "DEV_ISSUER_SIGNING_KEY":
            continue  # a private key: in platform.env only
        shown = value if not key.endswith("_TOKEN") else value[:24] + "…"
        print(f"  {key}={shown}")
    print(f"\n  the console: {urls['console']}/signin (paste AGENT_TOKEN, LEAD_TOKEN, ...)")
    print(f"  e-mails land in {RUN / 'mail'} (list them with `make mail`)")
    print(f"  SMS, robot cards and webhooks land in {RUN / 'outbox'} (`make outbox`)")
    print(f"  logs: {RUN / 'logs'}   settings and full tokens for scripts: {RUN / 'platform.env'}")
    print(f"  up in {time.monotonic() - started:.1f} s; stop with `make down`\n")


def dev_identity(keys: dict[str, str]) -> DevIdentity:
    from complaint_runtime.dev_identity import DevIdentity

    return DevIdentity.from_json(keys["DEV_IDENTITY"])


# Development role tokens are for a working day of curl and console sign-ins, and for every
# service (the console's sign-in, routing, sla-watch, ...); the console's own tokens to
# routing and sla-watch, and services' tokens to each other, live minutes and name one.
DEV_TOKEN_TTL_S = 8 * 3600


def role_tokens(identity: DevIdentity) -> dict[str, str]:
    """One development token per role; agents and leads of the billing team by default."""
    audiences = list(SERVICES)

    def token(subject: str, role: str, team: str | None = None) -> str:
        return identity.token(
            subject=subject, roles=[role], audience=audiences, team=team, ttl_s=DEV_TOKEN_TTL_S
        )

    return {
        "AGENT_TOKEN": token("agent-billing", "agent", "billing"),
        "LEAD_TOKEN": token("lead-billing", "lead", "billing"),
        "MANAGER_TOKEN": token("manager-1", "manager"),
        "ADMIN_TOKEN": token("admin-1", "admin"),
    }


def _mails() -> list[mailbox.MaildirMessage]:
    box = mailbox.Maildir(RUN / "mail", create=True)
    return sorted(box, key=lambda m: m.get_date())


def mail() -> None:
    """List what the development mail server received, newest last, with the last body."""
    messages = _mails()
    if not messages:
        say(f"no e-mail yet in {RUN / 'mail'}")
        return
    for message in messages:
        print(f"{message['Date']}  to {_header(message['To'])}  {_header(message['Subject'])}")
    last = messages[-1]
    payload = last.get_payload(decode=True)
    body = payload.decode(errors="replace") if isinstance(payload, bytes) else str(payload)
    print(f"\n--- last message ({_header(last['Subject'])}) ---\n{body}")


def _header(value: str | None) -> str:
    """Headers as a person reads them (RFC 2047 encoded words decoded)."""
    return str(make_header(decode_header(value or "")))


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
        [
            str(BIN / "intake-admin"),
            "create-api-key",
            "--front-end",
            "development",
            "--channels",
            "*",
            # The walkthrough's front end may also ask for its customers' erasure.
            "--scope",
            "erasure",
        ],
        env={**os.environ, **keys, "DATABASE_URL": database_url},
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    path.write_text(key)
    path.chmod(0o600)
    return key


def audit_verify() -> int:
    """Verify the audit chain of every service database of the running platform."""
    services_file = RUN / "services.json"
    if not services_file.exists():
        say("not running: `make up` first")
        return 1
    running = json.loads(services_file.read_text())
    pairs = [f"{name}={info['database']}" for name, info in running.items() if "database" in info]
    return subprocess.run([str(BIN / "audit-verify"), *pairs], check=False).returncode


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
    shutil.rmtree(RUN / "mail", ignore_errors=True)
    shutil.rmtree(RUN / "outbox", ignore_errors=True)
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


def main() -> int | None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["up", "down", "mail", "outbox", "audit-verify"])
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    args = parser.parse_args()
    if args.command == "up":
        up(args.postgres)
    elif args.command == "mail":
        mail()
    elif args.command == "outbox":
        outbox(RUN, _mails())
    elif args.command == "audit-verify":
        return audit_verify()
    else:
        down()


if __name__ == "__main__":
    sys.exit(main())
