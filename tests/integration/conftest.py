"""The integration suite's platform: real Kafka, real PostgreSQL, intake and routing as
processes. Started once per session; every process is stopped at the end."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from complaint_contracts.topics import all_topics
from harness import ROOT, ServiceProcess
from intake.cli import create_api_key, generate_keys

FIXTURES = ROOT / "tests" / "fixtures"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The record audit reads everything the other tests produced, so it runs last.
    items.sort(key=lambda item: item.get_closest_marker("audit_last") is not None)
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@dataclass
class Platform:
    intake: ServiceProcess
    routing: ServiceProcess
    bootstrap_servers: str
    api_key: str
    database_urls: dict[str, str]
    secrets: dict[str, str]
    postgres: Any

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.intake.url, headers={"X-API-Key": self.api_key}, timeout=30
        )


@pytest.fixture(scope="session")
def platform(
    local_kafka: Any, local_postgres: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    bootstrap = local_kafka.bootstrap_servers
    local_kafka.create_topics([(t.name, t.partitions) for t in all_topics()])
    urls = {name: local_postgres.create_database(name) for name in ("intake", "routing")}
    keys = generate_keys()
    api_key = asyncio.run(
        create_api_key(database_url=urls["intake"], label="integration", channels=["*"])
    )
    log_dir = tmp_path_factory.mktemp("service-logs")
    common = {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "LOG_JSON": "true",
        "OUTBOX_POLL_INTERVAL_S": "0.2",
        "CONSUMER_RETRY_BACKOFF_S": "0.05",
        "RETRY_AFTER_S": "2",
        "DB_STATEMENT_TIMEOUT_S": "3",
        "CONSUMER_SESSION_TIMEOUT_MS": "6000",
        **keys,
    }
    intake = ServiceProcess(
        "intake",
        "intake.main:create_app",
        {**common, "SERVICE_NAME": "intake", "DATABASE_URL": urls["intake"]},
        log_dir,
    )
    routing = ServiceProcess(
        "routing",
        "routing.main:create_app",
        {**common, "SERVICE_NAME": "routing", "DATABASE_URL": urls["routing"]},
        log_dir,
    )
    try:
        intake.start()
        routing.start()
        yield Platform(intake, routing, bootstrap, api_key, urls, keys, local_postgres)
    finally:
        for service in (routing, intake):
            service.stop()


@pytest.fixture(scope="session")
def sample_complaints() -> list[dict[str, Any]]:
    lines = (FIXTURES / "complaints.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call" and report.failed and "platform" in getattr(item, "funcargs", {}):
        platform: Platform = item.funcargs["platform"]  # type: ignore[attr-defined]
        for service in (platform.intake, platform.routing):
            report.sections.append((f"{service.name} log (tail)", service.log_tail(60)))
    return report
