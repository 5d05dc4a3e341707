"""The admin API of calendars and their special dates: validation, problems, recompute jobs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import icalendar
import pytest

from ..conftest import bearer

PROBLEM = "application/problem+json"
NINE_TO_SIX = ["09:00-12:00", "13:30-18:00"]


ADMIN = bearer("admin")
LEAD = bearer("lead")


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


async def job_of(client: httpx.AsyncClient, job_id: int) -> dict[str, Any]:
    answer = await client.get(f"/v1/admin/recomputations/{job_id}", headers=LEAD)
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


async def test_calendar_lifecycle(admin_client: httpx.AsyncClient) -> None:
    listed = (await admin_client.get("/v1/admin/calendars", headers=LEAD)).json()["calendars"]
    by_id = {c["calendar_id"]: c for c in listed}
    assert by_id["24x7"]["weekly"] == [["00:00-24:00"]] * 7
    assert by_id["cn-mainland"]["holidays"] > 200
    assert by_id["cn-mainland"]["makeup_workdays"] > 50

    cn = (
        await admin_client.get(
            "/v1/admin/calendars/cn-mainland",
            params={"from": "2026-09-01", "to": "2026-10-31"},
            headers=LEAD,
        )
    ).json()
    days = {d["day"]: d for d in cn["days"]}
    assert days["2026-10-01"]["kind"] == "holiday"
    assert days["2026-09-20"]["kind"] == "makeup_workday"
    assert cn["used_by_policies"] == ["default-P2", "default-P3", "default-P4"]
    default_range = (await admin_client.get("/v1/admin/calendars/24x7", headers=LEAD)).json()
    this_year = datetime.now(UTC).year
    assert default_range["range_from"] == f"{this_year}-01-01"
    assert default_range["range_to"] == f"{this_year + 1}-12-31"

    created = await admin_client.post(
        "/v1/admin/calendars",
        json={
            "calendar_id": "de-berlin",
            "name": "Berlin office",
            "time_zone": "Europe/Berlin",
            "weekly": [["9:00-17:00"]] * 5 + [[], []],
        },
        headers=ADMIN,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["calendar"]["weekly"][0] == ["09:00-17:00"]  # normalised
    job = await job_of(admin_client, body["recompute_job_id"])
    assert (job["reason"], job["calendar_id"], job["state"]) == (
        "calendar_changed",
        "de-berlin",
        "pending",
    )
    problem(
        await admin_client.post(
            "/v1/admin/calendars",
            json={"calendar_id": "closed", "name": "never open", "weekly": [[]] * 7},
            headers=ADMIN,
        ),
        422,
    )
    dup = await admin_client.post(
        "/v1/admin/calendars",
        json={"calendar_id": "de-berlin", "name": "again", "weekly": [NINE_TO_SIX] * 7},
        headers=ADMIN,
    )
    assert problem(dup, 409)["type"].endswith("/conflict")

    patched = await admin_client.patch(
        "/v1/admin/calendars/de-berlin",
        json={"makeup_hours": ["10:00-14:00"], "name": "Berlin"},
        headers=ADMIN,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["calendar"]["makeup_hours"] == ["10:00-14:00"]
    assert patched.json()["recompute_job_id"] > body["recompute_job_id"]
    problem(
        await admin_client.patch(
            "/v1/admin/calendars/de-berlin", json={"name": None}, headers=ADMIN
        ),
        422,
    )
    problem(
        await admin_client.patch("/v1/admin/calendars/nope", json={"name": "x"}, headers=ADMIN), 404
    )
    closed = await admin_client.patch(
        "/v1/admin/calendars/de-berlin", json={"weekly": [[]] * 7}, headers=ADMIN
    )
    assert "no working time" in problem(closed, 422)["detail"]

    deleted = await admin_client.delete("/v1/admin/calendars/de-berlin", headers=ADMIN)
    assert deleted.status_code == 204
    problem(await admin_client.get("/v1/admin/calendars/de-berlin", headers=LEAD), 404)
    in_use = problem(
        await admin_client.delete("/v1/admin/calendars/cn-mainland", headers=ADMIN), 409
    )
    assert "default-P2" in in_use["detail"]
    policies = (await admin_client.get("/v1/admin/policies", headers=LEAD)).json()
    assert policies["config_version"] == 4  # 1 + create, patch, delete; refused ones bump nothing


@pytest.mark.parametrize(
    "body",
    [
        {"calendar_id": "x", "name": "x", "time_zone": "Mars/Olympus", "weekly": [[]] * 7},
        {"calendar_id": "x", "name": "x", "weekly": [NINE_TO_SIX] * 6},
        {"calendar_id": "x", "name": "x", "weekly": [["09:00-12:00", "11:00-13:00"]] * 7},
        {"calendar_id": "x", "name": "x", "weekly": [["25:00-26:00"]] * 7},
        {"calendar_id": "Bad Id", "name": "x", "weekly": [NINE_TO_SIX] * 7},
        {"calendar_id": "x", "name": "x", "weekly": [NINE_TO_SIX] * 7, "extra": 1},
        {"calendar_id": "x", "name": "Shenzhen\r\noffice", "weekly": [NINE_TO_SIX] * 7},
    ],
)
async def test_bad_calendars_are_refused_field_by_field(
    admin_client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    refused = problem(await admin_client.post("/v1/admin/calendars", json=body, headers=ADMIN), 422)
    assert refused["errors"], refused


async def test_days_holidays_makeup_and_overrides(admin_client: httpx.AsyncClient) -> None:
    path = "/v1/admin/calendars/cn-mainland/days"
    # Next year's official schedule, added by hand before the package has it.
    put = await admin_client.put(
        f"{path}/2027-01-01", json={"kind": "holiday", "name": "元旦"}, headers=ADMIN
    )
    assert put.status_code == 200, put.text
    assert put.json()["day"] == {
        "day": "2027-01-01",
        "kind": "holiday",
        "intervals": None,
        "name": "元旦",
        "source": "admin",
    }
    job = await job_of(admin_client, put.json()["recompute_job_id"])
    assert (job["reason"], job["calendar_id"]) == ("calendar_changed", "cn-mainland")
    makeup = await admin_client.put(
        f"{path}/2027-01-09", json={"kind": "makeup_workday", "name": "补班"}, headers=ADMIN
    )
    assert makeup.status_code == 200
    short = await admin_client.put(
        f"{path}/2027-01-08",
        json={"kind": "override", "intervals": ["09:00-12:00"], "name": "half day"},
        headers=ADMIN,
    )
    assert short.json()["day"]["intervals"] == ["09:00-12:00"]
    problem(
        await admin_client.put(f"{path}/2027-01-07", json={"kind": "override"}, headers=ADMIN), 422
    )
    problem(
        await admin_client.put(
            f"{path}/2027-01-07", json={"kind": "holiday", "intervals": []}, headers=ADMIN
        ),
        422,
    )
    problem(
        await admin_client.put(f"{path}/2027-13-01", json={"kind": "holiday"}, headers=ADMIN), 422
    )
    problem(await admin_client.put(f"{path}/2027-01-07", json={"kind": "nap"}, headers=ADMIN), 422)
    problem(
        await admin_client.put(
            "/v1/admin/calendars/nope/days/2027-01-07", json={"kind": "holiday"}, headers=ADMIN
        ),
        404,
    )

    preview = "/v1/admin/calendars/cn-mainland/business-time"
    # Thu 2026-12-31 17:00 Shanghai + 2 working hours: Fri 01-01 is now a holiday, so Mon
    # 01-04 10:00.
    start = "2026-12-31T17:00:00+08:00"
    added = await admin_client.get(preview, params={"start": start, "seconds": 7200}, headers=LEAD)
    assert added.status_code == 200, added.text
    assert datetime.fromisoformat(added.json()["end"]) == datetime(2027, 1, 4, 2, tzinfo=UTC)
    assert added.json()["end_local"].startswith("2027-01-04T10:00:00+08:00")
    # the half day (3 h) and the worked Saturday (7.5 h) count
    measured = await admin_client.get(
        preview,
        params={"start": "2027-01-08T00:00:00+08:00", "end": "2027-01-10T00:00:00+08:00"},
        headers=LEAD,
    )
    assert measured.json()["seconds"] == 3 * 3600 + 27_000
    bad_queries: list[dict[str, str | int]] = [
        {"start": start},
        {"start": start, "seconds": 1, "end": start},
        {"start": "2026-12-31T17:00:00", "seconds": 1},
        {"start": start, "seconds": -1},
        {"start": "yesterday", "seconds": 1},
    ]
    for params in bad_queries:
        problem(await admin_client.get(preview, params=params, headers=LEAD), 422)
    problem(
        await admin_client.get(
            "/v1/admin/calendars/nope/business-time",
            params={"start": start, "seconds": 1},
            headers=LEAD,
        ),
        404,
    )

    removed = await admin_client.delete(f"{path}/2027-01-01", headers=ADMIN)
    assert removed.status_code == 200
    assert removed.json()["day"] is None
    problem(await admin_client.delete(f"{path}/2027-01-01", headers=ADMIN), 404)
    again = await admin_client.get(preview, params={"start": start, "seconds": 7200}, headers=LEAD)
    assert datetime.fromisoformat(again.json()["end"]) == datetime(2027, 1, 1, 2, tzinfo=UTC)


def ics_file(events: list[tuple[str, date, date]]) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//test//holidays//")
    calendar.add("version", "2.0")
    for i, (summary, first, end) in enumerate(events):
        event = icalendar.Event()
        event.add("uid", f"{i}@test")
        event.add("summary", summary)
        event.add("dtstart", first)
        event.add("dtend", end)
        calendar.add_component(event)
    return bytes(calendar.to_ical())


async def test_ics_import(admin_client: httpx.AsyncClient) -> None:
    path = "/v1/admin/calendars/cn-mainland/ics"
    data = ics_file(
        [
            ("春节", date(2027, 2, 6), date(2027, 2, 14)),  # 8 days
            ("春节 补班", date(2027, 2, 20), date(2027, 2, 21)),
            ("元旦", date(2026, 1, 1), date(2026, 1, 2)),  # on record already
        ]
    )
    imported = await admin_client.post(
        path, content=data, headers={**ADMIN, "Content-Type": "text/calendar"}
    )
    assert imported.status_code == 200, imported.text
    body = imported.json()
    assert (body["holidays"], body["makeup_workdays"], body["replaced"]) == (9, 1, 1)
    assert body["skipped"] == []
    job = await job_of(admin_client, body["recompute_job_id"])
    assert job["calendar_id"] == "cn-mainland"
    days = (
        await admin_client.get(
            "/v1/admin/calendars/cn-mainland",
            params={"from": "2027-02-01", "to": "2027-02-28"},
            headers=LEAD,
        )
    ).json()["days"]
    assert [(d["day"], d["kind"], d["source"]) for d in days] == [
        *((f"2027-02-{n:02d}", "holiday", "ics") for n in range(6, 14)),
        ("2027-02-20", "makeup_workday", "ics"),
    ]

    headers = {**ADMIN, "Content-Type": "text/calendar"}
    bad = problem(await admin_client.post(path, content=b"not a calendar", headers=headers), 422)
    assert bad["type"].endswith("/invalid-ics")
    empty = ics_file([])
    assert (
        "no event"
        in problem(await admin_client.post(path, content=empty, headers=headers), 422)["detail"]
    )
    conflicting = ics_file(
        [("假", date(2027, 3, 1), date(2027, 3, 2)), ("上班", date(2027, 3, 1), date(2027, 3, 2))]
    )
    problem(await admin_client.post(path, content=conflicting, headers=headers), 422)
    huge = b"BEGIN:VCALENDAR\r\n" + b"X-PAD:" + b"x" * 30_000 + b"\r\nEND:VCALENDAR\r\n"
    problem(await admin_client.post(path, content=huge, headers=headers), 413)
    problem(await admin_client.post(path, content=data, headers=ADMIN), 415)
    problem(
        await admin_client.post("/v1/admin/calendars/nope/ics", content=data, headers=headers), 404
    )
    problem(
        await admin_client.post(
            path, content=data, headers={**LEAD, "Content-Type": "text/calendar"}
        ),
        403,
    )


async def test_a_change_is_visible_to_the_next_clock_at_once(
    admin_client: httpx.AsyncClient,
) -> None:
    """The terms source's cache follows the config version: the preview counts the new holiday."""
    preview = "/v1/admin/calendars/cn-mainland/business-time"
    start = (datetime(2027, 3, 1, 9, tzinfo=UTC) - timedelta(hours=8)).isoformat()
    before = await admin_client.get(preview, params={"start": start, "seconds": 60}, headers=LEAD)
    await admin_client.put(
        "/v1/admin/calendars/cn-mainland/days/2027-03-01", json={"kind": "holiday"}, headers=ADMIN
    )
    after = await admin_client.get(preview, params={"start": start, "seconds": 60}, headers=LEAD)
    assert datetime.fromisoformat(after.json()["end"]) - datetime.fromisoformat(
        before.json()["end"]
    ) == timedelta(days=1)
