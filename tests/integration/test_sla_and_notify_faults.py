"""Clocks fire their warnings and breach exactly once, also across a SIGKILL of sla-watch;
notify killed in the middle of a delivery sends no duplicate e-mail."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from typing import Any

from complaint_contracts import topics
from harness import wait_for
from kafka_tools import header, read_all

from conftest import SLA_FIRST_RESPONSE_TARGETS_S, SLA_RESOLUTION_TARGETS_S, Platform, staff_email

HAZARD = "刚装的热水器洗澡时漏电，家里有老人孩子，非常危险，请马上派人处理。"


def _post_p1(platform: Platform, email: str) -> str:
    body = {
        "channel": "phone",
        "customer": {"external_ref": f"sla-{email}", "email": email, "language": "zh-CN"},
        "subject": "热水器漏电",
        "description": HAZARD,
    }
    with platform.client() as client:
        response = client.post("/v1/complaints", json=body)
        assert response.status_code == 201, response.text
        complaint_id: str = response.json()["id"]
        wait_for(
            lambda: client.get(f"/v1/complaints/{complaint_id}").json()["priority"] == "P1",
            what="the P1 triage",
        )
    return complaint_id


def _sla_events(platform: Platform, complaint_id: str) -> list[dict[str, Any]]:
    events = []
    for record in read_all(platform.bootstrap_servers, topics.SLA.name):
        if header(record, "ce_subject") != complaint_id:
            continue
        kind = (header(record, "ce_type") or "").split(".")[-2]
        events.append({"kind": kind, "id": header(record, "ce_id"), **json.loads(record.value)})
    return events


def _firings(events: list[dict[str, Any]]) -> dict[str, list[tuple[int, bool]]]:
    """(threshold %, late) per metric, one entry per distinct event id."""
    seen: set[str] = set()
    fired: dict[str, list[tuple[int, bool]]] = defaultdict(list)
    for event in events:
        if event["id"] in seen or event["kind"] not in {"warning", "breached"}:
            continue
        seen.add(event["id"])
        percent = event["percent"] if event["kind"] == "warning" else 100
        fired[event["metric"]].append((percent, bool(event.get("late"))))
    return fired


EXPECTED = [50, 75, 90, 100]


def complaint_reference(platform: Platform, complaint_id: str) -> str:
    with platform.client() as client:
        reference: str = client.get(f"/v1/complaints/{complaint_id}").json()["reference"]
    return reference


def _all_fired(platform: Platform, complaint_id: str) -> dict[str, list[tuple[int, bool]]] | None:
    fired = _firings(_sla_events(platform, complaint_id))
    done = all(
        sorted(p for p, _ in fired.get(metric, [])) == EXPECTED
        for metric in ("first_response", "resolution")
    )
    return fired if done else None


def test_clock_warnings_and_breach_fire_exactly_once(platform: Platform) -> None:
    complaint_id = _post_p1(platform, "sla.once@example.com")
    longest = max(SLA_FIRST_RESPONSE_TARGETS_S["P1"], SLA_RESOLUTION_TARGETS_S["P1"])
    fired = wait_for(
        lambda: _all_fired(platform, complaint_id), timeout_s=longest + 20, what="all firings"
    )
    time.sleep(1.5)  # anything fired twice would show up now
    fired = _firings(_sla_events(platform, complaint_id))
    for metric in ("first_response", "resolution"):
        assert sorted(p for p, _ in fired[metric]) == EXPECTED, fired
        assert not any(late for _, late in fired[metric]), fired
    started = [e for e in _sla_events(platform, complaint_id) if e["kind"] == "clock_started"]
    assert {e["metric"] for e in started} == {"first_response", "resolution"}
    # The team lead is told of each warning and breach, once each.
    with platform.client() as client:
        team = client.get(f"/v1/complaints/{complaint_id}").json()["team"]
    reference = complaint_reference(platform, complaint_id)
    lead = staff_email(f"lead-{team}")

    def ours() -> list[Any]:
        return [m for m in platform.mail.to(lead) if reference in m.subject + m.body]

    wait_for(lambda: len(ours()) >= 8, timeout_s=30, what="8 SLA e-mails to the team lead")
    time.sleep(1.0)
    assert len(ours()) == 8, [m.subject for m in ours()]
    assert len({m.message_id for m in ours()}) == 8


def test_sla_watch_killed_before_due_emits_late_once_after_restart(platform: Platform) -> None:
    sla = platform.services["sla-watch"]
    complaint_id = _post_p1(platform, "sla.late@example.com")
    wait_for(
        lambda: (
            len([e for e in _sla_events(platform, complaint_id) if e["kind"] == "clock_started"])
            == 2
        ),
        what="both clocks started",
    )
    sla.kill()
    try:
        time.sleep(SLA_RESOLUTION_TARGETS_S["P1"] + 3)  # everything falls due while it is down
        assert not _firings(_sla_events(platform, complaint_id))
    finally:
        sla.start()
    fired = wait_for(lambda: _all_fired(platform, complaint_id), timeout_s=30, what="late firings")
    time.sleep(1.5)
    fired = _firings(_sla_events(platform, complaint_id))
    for metric in ("first_response", "resolution"):
        assert sorted(p for p, _ in fired[metric]) == EXPECTED, fired
        assert all(late for _, late in fired[metric]), fired


def test_notify_killed_mid_delivery_sends_no_duplicate(platform: Platform) -> None:
    notify = platform.services["notify"]
    email = "notify.crash@example.com"
    platform.mail.wait_quiet()
    platform.mail.delay_s = 3.0  # the SMTP server holds the DATA answer: a delivery in flight
    platform.mail.hold_for = email
    platform.mail.data_started.clear()
    try:
        body = {
            "channel": "web",
            "customer": {"external_ref": "notify-crash", "email": email, "language": "en"},
            "subject": "Parcel lost",
            "description": "The parcel shows delivered but never arrived.",
        }
        with platform.client() as client:
            posted = client.post("/v1/complaints", json=body)
            assert posted.status_code == 201, posted.text
            complaint_id = posted.json()["id"]
        assert platform.mail.data_started.wait(timeout=30), "no delivery started"
        notify.kill()  # after the message went over the wire, before notify heard the answer
    finally:
        platform.mail.delay_s = 0.0
        platform.mail.hold_for = ""
    time.sleep(3.5)  # past the claim lease, so the restarted notify settles the row at once
    notify.start()
    wait_for(lambda: platform.mail.to(email), timeout_s=30, what="the acknowledgement")
    # A later message still flows, and the interrupted one is never sent again.
    other = "notify.after@example.com"
    body["customer"] = {"external_ref": "notify-after", "email": other, "language": "en"}
    with platform.client() as client:
        assert client.post("/v1/complaints", json=body).status_code == 201
    wait_for(lambda: platform.mail.to(other), timeout_s=30, what="a message after the restart")
    time.sleep(2)
    ids = [m.message_id for m in platform.mail.to(email)]
    assert len(ids) == len(set(ids)) == 1, ids

    # The interrupted delivery is reported, not silently dropped.
    def uncertain() -> list[Any]:
        return [
            json.loads(r.value)
            for r in read_all(platform.bootstrap_servers, topics.NOTIFY.name)
            if header(r, "ce_subject") == complaint_id
            and (header(r, "ce_type") or "").endswith("notification.failed.v1")
            and b"outcome unknown" in r.value
        ]

    failed = wait_for(uncertain, timeout_s=20, what="notification.failed for the lost answer")
    # Other deliveries in flight at the kill (e.g. the agent's notice) are reported too.
    acknowledgements = [f for f in failed if f["template"] == "acknowledgement"]
    assert len(acknowledgements) == 1, failed
    assert acknowledgements[0]["final"] is True, failed
