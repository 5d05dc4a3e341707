"""`make up`'s default: every service on SQLite, run by scripts/local_platform.py exactly as a
newcomer runs it, and a complaint walked round the closed loop with the printed settings."""

from __future__ import annotations

import mailbox
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from harness import ROOT, wait_for

SURVEY_LINK = re.compile(r"https?://\S+/s/[\w.\-~%]+")  # the survey page's link


@pytest.fixture(scope="module")
def sqlite_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    state = tmp_path_factory.mktemp("make-up")
    env = {**os.environ, "PLATFORM_STATE_DIR": str(state)}
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    script = [sys.executable, str(ROOT / "scripts" / "local_platform.py")]
    try:
        up = subprocess.run(
            [*script, "up"], env=env, capture_output=True, text=True, timeout=180, cwd=ROOT
        )
        assert up.returncode == 0, up.stdout + up.stderr
        assert "INTAKE_API_KEY=" in up.stdout
        values = dict(
            line.split("=", 1) for line in (state / "platform.env").read_text().splitlines()
        )
        yield values
    finally:
        subprocess.run([*script, "down"], env=env, capture_output=True, timeout=120, cwd=ROOT)


def _mail_to(mail_dir: str, address: str) -> list[str]:
    box = mailbox.Maildir(Path(mail_dir), create=True)
    bodies = []
    for message in box:
        if address in str(message["To"]):
            payload = message.get_payload(decode=True)
            bodies.append(payload.decode() if isinstance(payload, bytes) else str(payload))
    return bodies


def test_walk_through_on_sqlite(sqlite_platform: dict[str, str]) -> None:
    env = sqlite_platform
    for key in (
        "INTAKE_URL",
        "ROUTING_URL",
        "SLA_WATCH_URL",
        "FEEDBACK_URL",
        "NOTIFY_URL",
        "KAFKA_BOOTSTRAP_SERVERS",
        "AGENT_TOKEN",
        "LEAD_TOKEN",
        "MANAGER_TOKEN",
    ):
        assert env.get(key), key
    intake = httpx.Client(base_url=env["INTAKE_URL"], headers={"X-API-Key": env["INTAKE_API_KEY"]})
    agent = httpx.Client(
        base_url=env["ROUTING_URL"], headers={"Authorization": f"Bearer {env['AGENT_TOKEN']}"}
    )
    email = "walk.through@example.com"
    posted = intake.post(
        "/v1/complaints",
        json={
            "channel": "web",
            "customer": {"external_ref": "walk-1", "email": email, "language": "en"},
            "subject": "Refund delayed",
            "description": "My refund for order ORD-1 is delayed for two weeks.",
        },
    )
    assert posted.status_code == 201, posted.text
    complaint_id = posted.json()["id"]
    view = wait_for(
        lambda: (
            (v := intake.get(f"/v1/complaints/{complaint_id}").json())["status"] == "assigned" and v
        ),
        what="assigned",
    )
    assert view["team"] == "billing"
    assert agent.post(f"/v1/cases/{complaint_id}/first-response", json={}).status_code == 200
    resolved = agent.post(
        f"/v1/cases/{complaint_id}/resolve",
        json={
            "solution_summary": "Refund re-issued",
            "solution_type": "refund",
            "root_cause": "Payment gateway timeout",
        },
    )
    assert resolved.status_code == 200, resolved.text
    link = wait_for(
        lambda: next(
            (m.group(0) for b in _mail_to(env["MAIL_DIR"], email) if (m := SURVEY_LINK.search(b))),
            None,
        ),
        what="the survey e-mail in the development mailbox",
    )
    api = link.replace("/s/", "/v1/surveys/", 1)  # the link's JSON API
    assert httpx.post(api, json={"solved": True, "csat": 4}).status_code == 200
    wait_for(
        lambda: intake.get(f"/v1/complaints/{complaint_id}").json()["status"] == "closed",
        what="closed",
    )
