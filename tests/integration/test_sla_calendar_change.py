"""A calendar change moves an open clock's deadline: an admin adds a holiday inside the
window of a P3 complaint's clocks through sla-watch's admin API; the recompute job moves
both deadlines by one working day, says so on the sla topic (sla.clock_rescheduled,
calendar_changed), and the read API shows the new due times.

So that the holiday touches no other test's clocks, the complaint matches a policy of its
own (P3 from the store channel, silver tier) counting in a copy of cn-mainland; both are
removed at the end.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from complaint_contracts import topics
from complaint_contracts.envelope import decode
from complaint_contracts.events import SlaClockRescheduled
from harness import wait_for
from kafka_tools import header, read_all
from sla_watch.calendars.domain.holidays_cn import china_calendar

from conftest import FIXTURES, Platform

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = "it-cn-copy"
POLICY = "it-p3-store-silver"
WORKING_DAY_S = 27_000  # 09:00-12:00 and 13:30-18:00
WORKING_DAY_S = 27_000


def _p3_sample() -> dict[str, Any]:
    for line in (FIXTURES / "complaints.jsonl").read_text(encoding="utf-8").splitlines():
        sample: dict[str, Any] = json.loads(line)
        expected = sample["expected"]
        if expected["priority"] == "P3" and expected["emotion"] != "red":
            return sample
    raise AssertionError("no P3 sample in the fixtures")


def _done(admin: httpx.Client, job_id: int) -> dict[str, Any] | None:
    job: dict[str, Any] = admin.get(f"/v1/admin/recomputations/{job_id}").json()
    assert job["state"] != "failed", job
    return job if job["state"] == "done" else None


def _clocks(staff: httpx.Client, complaint_id: str) -> dict[str, dict[str, Any]] | None:
    answer = staff.get(f"/v1/complaints/{complaint_id}/clocks")
    if answer.status_code != 200:
        return None
    by_metric = {c["metric"]: c for c in answer.json()["clocks"] if c["state"] != "stopped"}
    return by_metric if {"first_response", "resolution"} <= set(by_metric) else None


def _rescheduled(platform: Platform, complaint_id: str) -> list[SlaClockRescheduled]:
    found = []
    for record in read_all(platform.bootstrap_servers, topics.SLA.name):
        if header(record, "ce_subject") != complaint_id:
            continue
        data = decode(record.key, record.value, list(record.headers)).data
        if isinstance(data, SlaClockRescheduled):
            found.append(data)
    return found


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_a_holiday_added_by_an_admin_moves_an_open_clock(platform: Platform) -> None:
    admin = platform.staff_client("sla-watch", "admin-1", ["admin"])
    staff = platform.staff_client("sla-watch", "manager-1", ["manager"])

    # A copy of cn-mainland: its hours and its special dates of the coming months.
    source = admin.get(
        "/v1/admin/calendars/cn-mainland",
        params={
            "from": datetime.now(UTC).date().isoformat(),
            "to": (datetime.now(UTC).date() + timedelta(days=400)).isoformat(),
        },
    )
    assert source.status_code == 200, source.text
    created = admin.post(
        "/v1/admin/calendars",
        json={
            "calendar_id": CALENDAR,
            "name": "cn-mainland (integration test copy)",
            "time_zone": source.json()["time_zone"],
            "weekly": source.json()["weekly"],
            "makeup_hours": source.json()["makeup_hours"],
        },
    )
    assert created.status_code == 201, created.text
    special = source.json()["days"]
    for day in special:
        put = admin.put(
            f"/v1/admin/calendars/{CALENDAR}/days/{day['day']}",
            json={"kind": day["kind"], "name": day["name"], "intervals": day["intervals"]},
        )
        assert put.status_code == 200, put.text
    policy = admin.post(
        "/v1/admin/policies",
        json={
            "policy_id": POLICY,
            "name": "integration test: P3 from a store, silver tier",
            "priority": "P3",
            "channel": "store",
            "tier": "silver",
            "calendar_id": CALENDAR,
            # Three and five working days, so the next working day (the holiday added
            # below) lies wholly inside both windows whatever the hour the test runs at.
            "first_response_s": 3 * WORKING_DAY_S,
            "resolution_s": 5 * WORKING_DAY_S,
            "position": 1,
        },
    )
    assert policy.status_code == 201, policy.text
    wait_for(lambda: _done(admin, policy.json()["recompute_job_id"]), what="policy job")

    sample = _p3_sample()
    body = {k: v for k, v in sample.items() if k != "expected"}
    body["channel"] = "store"
    body["customer"] = {
        "external_ref": f"cal-{uuid.uuid4().hex[:12]}",
        "email": f"cal-{uuid.uuid4().hex[:8]}@example.com",
        "tier": "silver",
        "language": "zh-CN",
    }
    with platform.client() as client:
        posted = client.post("/v1/complaints", json=body)
        assert posted.status_code == 201, posted.text
        complaint_id: str = posted.json()["id"]
    before = wait_for(lambda: _clocks(staff, complaint_id), what="the P3 clocks")
    for clock in before.values():
        assert (clock["priority"], clock["policy_id"], clock["calendar_id"]) == (
            "P3",
            POLICY,
            CALENDAR,
        )

    # Independently of sla-watch: the package's calendar (plus what admins added, e.g. next
    # year's schedule) gives the deadlines...
    added = [d for d in special if d["source"] != "chinese-calendar"]
    assert all(d["kind"] != "override" for d in added), "overrides are not modelled here"
    extra_holidays = [date.fromisoformat(d["day"]) for d in added if d["kind"] == "holiday"]
    extra_makeup = [date.fromisoformat(d["day"]) for d in added if d["kind"] == "makeup_workday"]
    reference = china_calendar(extra_holidays=extra_holidays, extra_makeup_workdays=extra_makeup)
    for clock in before.values():
        started = _when(clock["started_at"])
        assert _when(clock["due_at"]) == reference.add(started, clock["target_seconds"])
    # ... and the holiday: the first working day after today, inside both windows.
    first_response = before["first_response"]
    today = datetime.now(SHANGHAI).date()
    holiday = next(
        today + timedelta(days=n)
        for n in range(1, 30)
        if reference.intervals_on(today + timedelta(days=n))
    )
    due_local = _when(first_response["due_at"]).astimezone(SHANGHAI).date()
    assert holiday < due_local, "the holiday must fall inside the clock's remaining window"

    put = admin.put(
        f"/v1/admin/calendars/{CALENDAR}/days/{holiday.isoformat()}",
        json={"kind": "holiday", "name": "integration test holiday"},
    )
    assert put.status_code == 200, put.text
    job = wait_for(lambda: _done(admin, put.json()["recompute_job_id"]), what="calendar job")
    assert job["calendar_id"] == CALENDAR
    assert job["clocks_moved"] >= 2

    moved = china_calendar(
        extra_holidays=[*extra_holidays, holiday], extra_makeup_workdays=extra_makeup
    )

    def both_rescheduled() -> list[SlaClockRescheduled] | None:
        found = [e for e in _rescheduled(platform, complaint_id) if e.reason == "calendar_changed"]
        return found if len(found) >= 2 else None

    events = wait_for(both_rescheduled, what="sla.clock_rescheduled for both clocks")
    by_clock = {e.clock_id: e for e in events}
    after = wait_for(lambda: _clocks(staff, complaint_id), what="the clocks again")
    for metric, old in before.items():
        started, target = _when(old["started_at"]), old["target_seconds"]
        expected_due = moved.add(started, target)
        # one working day more: the old deadline now holds 7.5 h less business time
        assert moved.elapsed(started, _when(old["due_at"])) == target - WORKING_DAY_S
        assert expected_due > _when(old["due_at"])
        event = by_clock[old["clock_id"]]
        assert event.reason == "calendar_changed", metric
        assert (event.previous_due_at, event.due_at) == (_when(old["due_at"]), expected_due)
        assert _when(after[metric]["due_at"]) == expected_due

    # Clean up: the policy goes (the clocks re-match the default P3 policy), then the copy.
    removed = admin.delete(f"/v1/admin/policies/{POLICY}")
    assert removed.status_code == 200, removed.text
    wait_for(lambda: _done(admin, removed.json()["recompute_job_id"]), what="cleanup job")
    assert admin.delete(f"/v1/admin/calendars/{CALENDAR}").status_code == 204
    admin.close()
    staff.close()
