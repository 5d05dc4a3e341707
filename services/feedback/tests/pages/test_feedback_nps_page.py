"""The NPS page and the internal API around it, in-process: a round asks the customer,
notify gets the link and the "don't ask me again" link, the page takes one score 0–10
(eleven large choices), stores it once and publishes ``nps.answered`` with the comment
masked; refused, tampered, foreign and expired links; the opt-out is honoured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from complaint_contracts.events import NpsAnswered, NpsSurveyRequested
from feedback.domain.links import NPS_AUDIENCE, issue_link_token
from feedback.nps.db import NpsRequest

from .conftest import BASE, LINK_SECRET, MakeSite, Site, text_of


async def _answered(site: Site) -> list[NpsAnswered]:
    return [e for e in await site.events() if isinstance(e, NpsAnswered)]


async def _stored(site: Site, request_id: str) -> NpsRequest:
    async with site.database.sessions() as session:
        found = await session.get(NpsRequest, request_id)
    assert found is not None
    return found


async def test_notify_gets_the_pages_link_and_the_way_out(site: Site) -> None:
    complaint_id, ref, link = await site.nps_link(language="en")
    [requested] = [e for e in await site.events() if isinstance(e, NpsSurveyRequested)]
    assert (requested.complaint_id, requested.customer_ref) == (complaint_id, ref)
    assert (requested.language, requested.channel) == ("en", "email")
    body = await site.internal(f"/internal/v1/nps/requests/{requested.request_id}")
    assert body["nps_url"].startswith(f"{BASE}/n/")
    assert body["opt_out_url"] == body["nps_url"] + "#opt-out"
    assert (body["status"], body["language"], body["period"]) == ("pending", "en", requested.period)
    token = link.rsplit("/", 1)[1]
    assert all(token not in str(e) for e in await site.events())


async def test_a_score_is_taken_once_and_published_masked(site: Site) -> None:
    complaint_id, _, link = await site.nps_link()
    page = await site.open(link)
    assert page.url.path.startswith("/nps/")
    assert page.text.count('type="radio" name="score"') == 11
    assert "您有多大可能向朋友或同事推荐我们？" in page.text
    assert 'action="' + page.url.path + '/opt-out"' in page.text
    action = page.url.path
    comment = "客服很好，请回电 13812345678"
    sent = await site.submit(page, action, {"score": "9", "comment": comment})
    assert sent.status_code == 303
    assert sent.headers["location"] == f"{action}?done=answered"
    thanks = await site.client.get(sent.headers["location"])
    assert "感谢您的评分" in thanks.text
    assert "9 分" in text_of(thanks.text, "outcome")
    again = await site.submit(page, action, {"score": "0"})  # a double submit
    assert again.headers["location"] == f"{action}?done=answered"
    [answered] = await _answered(site)
    assert (answered.complaint_id, answered.score) == (complaint_id, 9)
    assert answered.comment == "客服很好，请回电 138****5678"
    stored = await _stored(site, answered.request_id)
    assert (stored.score, stored.comment) == (9, comment)  # raw here, masked in the event
    later = await site.open(link)
    assert "您已经评过分了" in later.text
    assert 'name="score"' not in later.text


async def test_a_score_off_the_scale_is_refused_and_nothing_is_stored(site: Site) -> None:
    _, _, link = await site.nps_link(language="en")
    page = await site.open(link)
    for fields, message in (
        ({"score": "11"}, "A score is 0 to 10"),
        ({"score": "-1"}, "A score is 0 to 10"),
        ({"score": "ten"}, "A score is 0 to 10"),
        ({}, "Please choose a score from 0 to 10"),
        ({"score": "5", "comment": "x" * 2001}, "at most 2000 characters"),
    ):
        refused = await site.submit(page, page.url.path, fields)
        assert refused.status_code == 422, fields
        assert "Nothing was saved" in refused.text
        assert message in refused.text
    assert await _answered(site) == []


async def test_dont_ask_me_again_is_kept_and_honoured(site: Site) -> None:
    complaint_id, ref, link = await site.nps_link()
    page = await site.open(link)
    out = await site.submit(page, f"{page.url.path}/opt-out", {})
    assert out.status_code == 303
    assert out.headers["location"] == f"{page.url.path}?done=opted_out#opt-out"
    shown = await site.client.get(out.headers["location"].split("#")[0])
    assert "我们以后不会再邀请您" in text_of(shown.text, "notice")
    assert "您已选择不再接收这项调查" in text_of(shown.text, "opted-out")
    assert (await site.submit(page, f"{page.url.path}/opt-out", {})).status_code == 303
    # The customer's next closed complaint, in a later period: they are not asked.
    second, _ = await site.received(customer_ref=ref)
    now = datetime.now(UTC)
    await site.closed(second, at=now - timedelta(seconds=5))
    round_ = await site.nps_round(now - timedelta(seconds=10), now + timedelta(seconds=1))
    assert round_["period"]
    requested = [e for e in await site.events() if isinstance(e, NpsSurveyRequested)]
    assert [e.complaint_id for e in requested] == [complaint_id]  # the first round's only
    forged = await site.client.post(f"{page.url.path}/opt-out", data={"csrf_token": "x"})
    assert forged.status_code == 403


async def test_tampered_foreign_and_expired_links(site: Site) -> None:
    complaint_id, _, link = await site.nps_link(language="en")
    path = link.removeprefix(BASE)
    tampered = path[:-2] + ("xx" if not path.endswith("xx") else "yy")
    answer = await site.client.get(tampered)
    assert answer.status_code == 404
    assert "链接无效或已失效" in answer.text  # no language known: the browser's, else zh-CN
    # A confirmation survey's link does not open the NPS page, nor the other way round.
    _, survey = await site.survey_link()
    assert (await site.client.get("/n/" + survey.rsplit("/", 1)[1])).status_code == 404
    assert (await site.client.get("/s/" + link.rsplit("/", 1)[1])).status_code == 404
    page = await site.open(link)
    expired = issue_link_token(
        secret=LINK_SECRET,
        request_id=page.url.path.rsplit("/", 1)[1],
        complaint_id=complaint_id,
        expires_at=datetime.now(UTC) - timedelta(seconds=1),
        audience=NPS_AUDIENCE,
        language="en",
    )
    gone = await site.client.get(f"/n/{expired}")
    assert gone.status_code == 410
    assert "This survey has expired" in gone.text
    assert "no longer takes a score" in gone.text


async def test_the_link_answers_json_to_a_front_end(site: Site) -> None:
    _, _, link = await site.nps_link()
    answer = await site.client.get(link.removeprefix(BASE), headers={"Accept": "application/json"})
    assert answer.status_code == 200
    body = answer.json()
    assert (body["min"], body["max"], body["answered"], body["opted_out"]) == (0, 10, False, False)


async def test_the_internal_api_checks_roles_and_periods(make_site: MakeSite) -> None:
    site = await make_site(nps_schedule="off")
    async with site.browser() as internal:
        agent = await internal.post(
            "/internal/v1/nps/rounds", json={}, headers=site.as_staff("agent")
        )
        assert agent.status_code == 403
        # No service opens rounds: an admin does (operators, tests).
        notify = await internal.post("/internal/v1/nps/rounds", json={}, headers=site.as_service())
        assert notify.status_code == 403
        elsewhere = site.as_staff("admin", audience="intake")  # an admin's token for intake
        refused = await internal.post("/internal/v1/nps/rounds", json={}, headers=elsewhere)
        assert refused.status_code == 401
        off = await internal.post("/internal/v1/nps/rounds", headers=site.as_staff("admin"))
        assert off.status_code == 422
        assert "NPS_SCHEDULE is off" in off.json()["detail"]
        backwards = await internal.post(
            "/internal/v1/nps/rounds",
            json={"start": "2026-12-01T00:00:00+08:00", "end": "2026-11-01T00:00:00+08:00"},
            headers=site.as_staff("admin"),
        )
        assert backwards.status_code == 422
        month = await internal.post(
            "/internal/v1/nps/rounds",
            json={"start": "2026-11-01T00:00:00+08:00", "end": "2026-12-01T00:00:00+08:00"},
            headers=site.as_staff("admin"),
        )
        assert month.status_code == 202
        period = month.json()["period"]
        assert period == "2026-10-31T16:00:00Z/2026-11-30T16:00:00Z"
        status = await internal.get(
            f"/internal/v1/nps/rounds/{period}", headers=site.as_staff("admin")
        )
        assert status.status_code == 200
        assert status.json()["trigger"] == "operator"
        request = "/internal/v1/nps/requests/nope"
        for caller in ("intake", "routing"):  # only notify sends the invitations
            other = await internal.get(request, headers=site.as_service(caller))
            assert other.status_code == 403, caller
        admin = await internal.get(request, headers=site.as_staff("admin"))
        assert admin.status_code == 403
        wrong = await internal.get(request, headers=site.as_service(audience="intake"))
        assert wrong.status_code == 401
        missing = await internal.get(request, headers=site.as_service())
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
