"""The integration suite's platform: real Kafka, real PostgreSQL, intake and routing as
processes. Started once per session; every process is stopped at the end."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from complaint_contracts.topics import all_topics
from complaint_runtime.dev_identity import DevIdentity
from harness import ROOT, ServiceProcess, free_port
from intake.cli import create_api_key, generate_keys
from mail import MailSink

FIXTURES = ROOT / "tests" / "fixtures"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The record audit reads everything the other tests produced, so it runs last.
    items.sort(key=lambda item: item.get_closest_marker("audit_last") is not None)
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


CUSTOMER_ACTIONS = ("open", "view", "message", "withdraw", "rotate", "recover", "verify")
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
SERVICES = {  # name → app factory
    "intake": "intake.main:create_app",
    "routing": "routing.main:create_app",
    "sla-watch": "sla_watch.main:create_app",
    "feedback": "feedback.main:create_app",
    "notify": "notify.main:create_app",
    "console": "console.main:create_app",
}
# P1 clocks run in seconds here so a test can watch warnings and a breach happen (its policy
# counts 24×7); the other priorities keep the seeded policies' business-time targets on the
# cn-mainland calendar (hours of working time at least, far beyond the suite's length).
SLA_FIRST_RESPONSE_TARGETS_S = {"P1": 6}
SLA_RESOLUTION_TARGETS_S = {"P1": 12}
# The reopen window (§3, 30 days in production) lasts seconds here, so a test sees a message
# on a closed complaint reopen it inside the window and open a linked complaint after it.
REOPEN_WINDOW_S = 20.0
# The survey reminder (§3, 24 h in production) comes after seconds here, so a test sees the
# one reminder mail; long enough that the other tests answer their surveys before it.
REMINDER_AFTER_S = 20.0
# Follow-up calls (回访) open at once here instead of 15 days after the resolution, so a
# test can complete one; they still fall due 30 days after it.
FOLLOW_UP_CALL_AFTER_D = 0.0


def agent_id(team: str) -> str:
    return f"agent-{team}"


def manager_id(team: str) -> str:
    return f"manager-{team}"


# The senior escalation group of the staff directory (told about level-3 escalations).
SENIOR_GROUP = ("senior-zhou", "senior-wu")


def staff_email(user_id: str) -> str:
    return f"{user_id}@staff.example.com"


@dataclass
class Platform:
    services: dict[str, ServiceProcess]
    bootstrap_servers: str
    api_key: str
    database_urls: dict[str, str]
    secrets: dict[str, str]
    postgres: Any
    mail: MailSink
    identity: DevIdentity

    @property
    def intake(self) -> ServiceProcess:
        return self.services["intake"]

    @property
    def routing(self) -> ServiceProcess:
        return self.services["routing"]

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.intake.url, headers={"X-API-Key": self.api_key}, timeout=30
        )

    def token(
        self, subject: str, roles: list[str], team: str | None = None, *, audience: str
    ) -> str:
        """A staff token from the suite's development identity provider, for ``audience``."""
        return self.identity.token(subject=subject, roles=roles, team=team, audience=audience)

    def staff_client(self, service: str, subject: str, roles: list[str]) -> httpx.Client:
        token = self.token(subject, roles, audience=service)
        return httpx.Client(
            base_url=self.services[service].url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )


@pytest.fixture(scope="session")
def platform(
    local_kafka: Any, local_postgres: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    bootstrap = local_kafka.bootstrap_servers
    local_kafka.create_topics([(t.name, t.partitions) for t in all_topics()])
    urls = {name: local_postgres.create_database(name.replace("-", "_")) for name in SERVICES}
    keys = generate_keys()
    identity = DevIdentity.generate(SERVICES)
    api_key = asyncio.run(
        create_api_key(database_url=urls["intake"], label="integration", channels=["*"])
    )
    mail = MailSink()
    mail.start()
    log_dir = tmp_path_factory.mktemp("service-logs")
    ports = {name: free_port() for name in SERVICES}
    base = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    common = {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "LOG_JSON": "true",
        "OUTBOX_POLL_INTERVAL_S": "0.2",
        "CONSUMER_RETRY_BACKOFF_S": "0.05",
        "RETRY_AFTER_S": "2",
        "DB_STATEMENT_TIMEOUT_S": "3",
        "CONSUMER_SESSION_TIMEOUT_MS": "6000",
    }
    per_service = {
        "intake": {
            **keys,
            "REOPEN_WINDOW_DAYS": repr(REOPEN_WINDOW_S / 86_400),
            # Every test's customer comes from 127.0.0.1: the per-address limits would count
            # the whole suite as one customer (the limits are tested in intake's own tests).
            "TRACKING_RATE_LIMITS": json.dumps(
                {f"{action}.client": "100000/minute" for action in CUSTOMER_ACTIONS}
            ),
        },
        "routing": {
            "ROUTING_AGENTS": json.dumps(
                [{"id": agent_id(t), "team": t, "level": "senior", "capacity": 1000} for t in TEAMS]
            ),
            "INTAKE_INTERNAL_URL": base["intake"],  # a lead's reveal of a raw contact
            "FOLLOW_UP_CALL_AFTER_D": repr(FOLLOW_UP_CALL_AFTER_D),
        },
        "sla-watch": {
            "SLA_FIRST_RESPONSE_TARGETS_S": json.dumps(SLA_FIRST_RESPONSE_TARGETS_S),
            "SLA_RESOLUTION_TARGETS_S": json.dumps(SLA_RESOLUTION_TARGETS_S),
            "SLA_TICK_S": "0.2",
            "SLA_LATE_AFTER_S": "2",
        },
        "feedback": {
            "FEEDBACK_LINK_SECRET": secrets.token_urlsafe(32),
            "FEEDBACK_TICK_S": "0.5",
            "FEEDBACK_REMINDER_AFTER_H": repr(REMINDER_AFTER_S / 3600),
            # NPS rounds run only when a test opens one (POST /internal/v1/nps/rounds, for a
            # window of seconds) and ask everybody closed in it: the sample itself is
            # property-tested in feedback's unit tests.
            "NPS_SAMPLE_PERCENT": "100",
            "NPS_SCHEDULE": "off",  # no scheduled periods: a test's window of seconds is its own
            "NPS_TICK_S": "0.5",
            "FEEDBACK_PAGE_RATE_LIMITS": json.dumps(
                {
                    f"{action}.client": "100000/minute"
                    for action in ("open", "view", "answer", "opt_out")
                }
            ),
        },
        "notify": {
            "NOTIFY_SENDING_LEASE_S": "3",
            "NOTIFY_POLL_INTERVAL_S": "0.2",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(mail.port),
            "SMTP_FROM": "complaints@platform.example.com",
            "INTAKE_INTERNAL_URL": base["intake"],
            "FEEDBACK_INTERNAL_URL": base["feedback"],
            "NOTIFY_STAFF_DIRECTORY": json.dumps(
                {
                    "users": {
                        user: {"email": staff_email(user), "name": user, "language": "en"}
                        for user in [
                            *(
                                u
                                for team in TEAMS
                                for u in (agent_id(team), f"lead-{team}", manager_id(team))
                            ),
                            *SENIOR_GROUP,
                        ]
                    },
                    "team_leads": {team: f"lead-{team}" for team in TEAMS},
                    "managers": {team: manager_id(team) for team in TEAMS},
                    "escalation_group": list(SENIOR_GROUP),
                }
            ),
        },
        # The development sign-in page takes the tests' role tokens; no TLS here.
        "console": {
            "CONSOLE_DEV_SIGN_IN": "true",
            "CONSOLE_COOKIE_SECURE": "false",
            "CONSOLE_ROUTING_URL": base["routing"],
            "CONSOLE_SLA_WATCH_URL": base["sla-watch"],
            "CONSOLE_LIVE_POLL_S": "0.5",
        },
    }
    services = {
        name: ServiceProcess(
            name,
            factory,
            {
                **common,
                **identity.env(name),  # the public keys; the service's own private key
                **per_service[name],
                "SERVICE_NAME": name,
                "DATABASE_URL": urls[name],
            },
            log_dir,
            port=ports[name],
        )
        for name, factory in SERVICES.items()
    }
    try:
        for service in services.values():
            service.start(wait=False)
        for service in services.values():
            service.wait_ready()
        yield Platform(services, bootstrap, api_key, urls, keys, local_postgres, mail, identity)
    finally:
        for service in reversed(services.values()):
            service.stop()
        mail.stop()


@pytest.fixture(scope="session")
def sample_complaints() -> list[dict[str, Any]]:
    lines = (FIXTURES / "complaints.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call" and report.failed and "platform" in getattr(item, "funcargs", {}):
        platform: Platform = item.funcargs["platform"]  # type: ignore[attr-defined]
        for service in platform.services.values():
            report.sections.append((f"{service.name} log (tail)", service.log_tail(60)))
    return report
