"""Lost-link recovery through intake's app in-process: the customer gives the reference and
a contact, notify reads the one-time code once over the internal API, the code opens the
tracking page with a new link (the old one dead). A mismatch answers exactly the same and
sends nothing; wrong codes count down, a spent or expired code sends the customer back;
forms need the flow's CSRF token; asking is rate limited per reference."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from complaint_contracts.envelope import Envelope, decode
from complaint_contracts.events import TrackingCodeRequested
from complaint_runtime.database import OutboxMessage
from intake.recovery.db import TrackingCode
from sqlalchemy import select, update

from .conftest import BASE, MakePages, Pages, hidden_fields, text_of

EMAIL = "li.na@example.com"


async def _pages(make_pages: MakePages, **overrides: Any) -> Pages:
    made: Pages = await make_pages(**overrides)
    return made


async def _ask(pages: Pages, reference: str, contact: str, **query: str) -> httpx.Response:
    start = await pages.client.get("/recover", params=query)
    assert start.status_code == 200, start.text
    return await pages.submit(start, "/recover", {"reference": reference, "contact": contact})


async def _events(pages: Pages) -> list[Envelope]:
    async with pages.database.sessions() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    return [decode(r.key, r.value, [(n, v.encode()) for n, v in r.headers]) for r in rows]


async def _code_requests(pages: Pages) -> list[TrackingCodeRequested]:
    return [e.data for e in await _events(pages) if isinstance(e.data, TrackingCodeRequested)]


async def _read_code(
    pages: Pages, complaint_id: str, request_id: str, *, caller: str = "notify"
) -> httpx.Response:
    token = pages.identity.service_token(caller=caller, audience="intake")
    return await pages.client.get(
        f"/internal/v1/complaints/{complaint_id}/tracking-codes/{request_id}",
        headers=pages.bearer(token),
    )


async def _enter(pages: Pages, code: str) -> httpx.Response:
    page = await pages.client.get("/recover/code")
    assert page.status_code == 200, page.text
    return await pages.submit(page, "/recover/code", {"code": code})


async def _submit_on(
    client: httpx.AsyncClient, path: str, fields: dict[str, str]
) -> httpx.Response:
    """Open ``path`` in ``client`` (another browser) and post its form with ``fields``."""
    page = await client.get(path)
    return await client.post(path, data={**hidden_fields(page.text, path), **fields})


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_the_code_from_the_mail_opens_the_page_with_a_new_link(
    make_pages: MakePages,
) -> None:
    pages = await _pages(make_pages)
    accepted = await pages.post()
    start = await pages.client.get("/recover")
    cookie = start.headers["set-cookie"]
    assert cookie.startswith("complaint_recovery=")
    for attribute in ("HttpOnly", "Path=/recover", "SameSite=lax", "Secure"):
        assert attribute in cookie
    assert 'autocomplete="email"' in start.text
    asked = await pages.submit(
        start,
        "/recover",
        {"reference": accepted["reference"].lower(), "contact": "LI.NA@example.com"},
    )
    assert asked.status_code == 303
    assert asked.headers["location"] == "/recover/code"

    [requested] = await _code_requests(pages)
    assert (requested.complaint_id, requested.channel, requested.matched_on) == (
        accepted["id"],
        "email",
        "email",
    )
    assert requested.expires_at - requested.requested_at == timedelta(minutes=10)
    read = await _read_code(pages, accepted["id"], requested.request_id)
    assert read.status_code == 200, read.text
    assert read.headers["cache-control"] == "no-store"
    code = read.json()["code"]
    assert re.fullmatch(r"\d{6}", code)
    assert code not in str([e.data.model_dump() for e in await _events(pages)])
    again = await _read_code(pages, accepted["id"], requested.request_id)
    assert again.status_code == 404  # readable once

    page = await pages.client.get("/recover/code")
    assert "如果受理编号和联系方式与投诉相符" in text_of(page.text, "code-sent")
    assert 'autocomplete="one-time-code"' in page.text
    assert 'inputmode="numeric"' in page.text
    wrong = await pages.submit(page, "/recover/code", {"code": _wrong(code)})
    assert wrong.status_code == 422
    assert "验证码不正确，还可以再试 4 次。" in wrong.text
    assert 'aria-invalid="true"' in wrong.text

    opened = await pages.submit(page, "/recover/code", {"code": f"{code[:3]} {code[3:]}"})
    assert opened.status_code == 303
    assert opened.headers["location"] == f"/c/{accepted['id']}?done=recovered&lang=zh-CN"
    cookies = opened.headers.get_list("set-cookie")
    assert any(
        c.startswith("complaint_link=") and f"Path=/c/{accepted['id']}" in c for c in cookies
    )
    assert any(c.startswith("complaint_recovery=") and "Max-Age=0" in c for c in cookies)
    tracking = await pages.client.get(opened.headers["location"])
    assert tracking.status_code == 200
    assert "欢迎回来" in text_of(tracking.text, "notice")
    new_link = text_of(tracking.text, "new-link")
    assert new_link.startswith(f"{BASE}/t/")
    assert new_link != accepted["tracking_url"]

    async with pages.browser(httpx.Cookies()) as other:
        old = await other.get(
            accepted["tracking_url"].removeprefix(BASE), headers={"Accept": "text/html"}
        )
        assert old.status_code == 404  # the lost link no longer works
        assert 'href="/recover"' in old.text  # ... and the error page shows the way back
        assert (await other.get(new_link.removeprefix(BASE))).status_code == 303


async def test_a_mismatch_answers_the_same_and_sends_nothing(make_pages: MakePages) -> None:
    pages = await _pages(make_pages)
    accepted = await pages.post()
    matched = await _ask(pages, accepted["reference"], EMAIL)
    matched_page = await pages.client.get("/recover/code")
    [requested] = await _code_requests(pages)
    for reference, contact in (
        (accepted["reference"], "someone.else@example.com"),  # the wrong contact
        ("C-20991231-000001", EMAIL),  # no such complaint
        (accepted["reference"], "13812345678"),  # a phone it was not filed with
    ):
        async with pages.browser(httpx.Cookies()) as other:
            fields = {"reference": reference, "contact": contact}
            asked = await _submit_on(other, "/recover", fields)
            assert (asked.status_code, asked.headers["location"]) == (
                matched.status_code,
                matched.headers["location"],
            )
            page = await other.get("/recover/code")
            assert text_of(page.text, "code-sent") == text_of(matched_page.text, "code-sent")
            entered = await _submit_on(other, "/recover/code", {"code": "123456"})
            assert entered.status_code == 422  # a decoy counts attempts like a code
            assert "还可以再试 4 次" in entered.text
    assert [r.request_id for r in await _code_requests(pages)] == [requested.request_id]
    async with pages.database.sessions() as session:
        decoys = list(
            await session.scalars(select(TrackingCode).where(TrackingCode.complaint_id.is_(None)))
        )
    assert len(decoys) == 3
    assert all(d.code_hash is None and d.code_enc is None for d in decoys)
    assert (await _read_code(pages, accepted["id"], decoys[0].request_id)).status_code == 404


async def test_a_phone_match_sends_the_code_to_the_complaints_email(
    make_pages: MakePages,
) -> None:
    pages = await _pages(make_pages)
    accepted = await pages.post(
        customer={"phone": "+86 138 1234 5678", "email": EMAIL, "language": "en"}
    )
    no_mail = await pages.post(customer={"phone": "13900001111"})
    await _ask(pages, accepted["reference"], "13812345678")
    await _ask(pages, no_mail["reference"], "13900001111")  # nowhere to send a code
    [requested] = await _code_requests(pages)
    assert (requested.complaint_id, requested.matched_on) == (accepted["id"], "phone")


async def test_five_wrong_codes_spend_it_and_an_expired_one_sends_you_back(
    make_pages: MakePages,
) -> None:
    pages = await _pages(make_pages)
    accepted = await pages.post()
    await _ask(pages, accepted["reference"], EMAIL)
    [requested] = await _code_requests(pages)
    code = (await _read_code(pages, accepted["id"], requested.request_id)).json()["code"]
    answers = [await _enter(pages, _wrong(code)) for _ in range(5)]
    assert [a.status_code for a in answers] == [422] * 4 + [410]
    assert "输错次数太多" in answers[-1].text
    assert 'name="code"' not in answers[-1].text  # nothing left to enter
    assert 'href="/recover"' in answers[-1].text
    assert (await _enter(pages, code)).status_code == 410  # the right one, too late

    await _ask(pages, accepted["reference"], EMAIL)  # a new request supersedes it
    [_, second] = await _code_requests(pages)
    code = (await _read_code(pages, accepted["id"], second.request_id)).json()["code"]
    async with pages.database.unit_of_work() as uow:
        await uow.session.execute(
            update(TrackingCode)
            .where(TrackingCode.request_id == second.request_id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    expired = await _enter(pages, code)
    assert expired.status_code == 410
    assert "验证码已过期或已使用" in expired.text


async def test_forms_need_the_flows_csrf_token_and_name_what_is_wrong(
    make_pages: MakePages,
) -> None:
    pages = await _pages(make_pages)
    accepted = await pages.post()
    no_flow = await pages.client.post(
        "/recover", data={"reference": accepted["reference"], "contact": EMAIL}
    )
    assert no_flow.status_code == 403
    assert "页面已过期" in no_flow.text
    start = await pages.client.get("/recover?lang=en")
    forged = await pages.client.post(
        "/recover",
        data={"csrf_token": "forged", "reference": accepted["reference"], "contact": EMAIL},
    )
    assert forged.status_code == 403
    refused = await pages.submit(start, "/recover", {"reference": "C-1", "contact": ""})
    assert refused.status_code == 422
    assert '<html lang="en">' in refused.text
    assert "This is not a reference" in text_of(refused.text, "reference-error")
    assert "Please enter your e-mail address" in text_of(refused.text, "contact-error")
    assert 'value="C-1"' in refused.text
    assert await _code_requests(pages) == []
    typo = await _enter(pages, "12345")
    assert typo.status_code == 422
    assert "Please enter the 6 digits" in typo.text
    assert (await pages.client.get("/recover/code")).status_code == 200
    async with pages.browser(httpx.Cookies()) as other:
        bounced = await other.get("/recover/code")
    assert (bounced.status_code, bounced.headers["location"]) == (303, "/recover")


async def test_asking_for_codes_is_rate_limited_per_reference(make_pages: MakePages) -> None:
    pages = await _pages(make_pages, tracking_rate_limits={"recover.link": "2/hour"})
    accepted = await pages.post()
    answers = [await _ask(pages, accepted["reference"].lower(), EMAIL) for _ in range(3)]
    assert [a.status_code for a in answers] == [303, 303, 429]
    assert "操作太频繁" in answers[-1].text
    assert len(await _code_requests(pages)) == 2


async def test_junk_contacts_on_a_reference_do_not_block_the_right_contact(
    make_pages: MakePages,
) -> None:
    pages = await _pages(make_pages, tracking_rate_limits={"recover.link": "2/hour"})
    accepted = await pages.post()
    reference = accepted["reference"]
    junk = ["x@example.com", "y@example.com", "13900001111", "not a contact"]
    answers = [await _ask(pages, reference, contact) for contact in junk for _ in range(2)]
    assert [a.status_code for a in answers] == [303, 303, 303, 303, 303, 303, 422, 422]
    assert (await _ask(pages, reference, "x@example.com")).status_code == 429
    assert await _code_requests(pages) == []
    right = [await _ask(pages, reference, contact) for contact in (EMAIL, EMAIL.upper())]
    assert [a.status_code for a in right] == [303, 303]
    assert len(await _code_requests(pages)) == 2
    assert (await _ask(pages, reference, f" {EMAIL} ")).status_code == 429
    assert len(await _code_requests(pages)) == 2


async def test_only_notify_reads_a_code(make_pages: MakePages) -> None:
    pages = await _pages(make_pages)
    accepted = await pages.post()
    other = await pages.post(customer={"customer_id": "CRM-10", "email": "x@example.com"})
    await _ask(pages, accepted["reference"], EMAIL)
    [requested] = await _code_requests(pages)
    path = f"/internal/v1/complaints/{accepted['id']}/tracking-codes/{requested.request_id}"
    assert (await pages.client.get(path)).status_code == 401
    staff = pages.identity.token(subject="agent-1", roles=["agent"], audience="intake")
    forbidden = await pages.client.get(path, headers=pages.bearer(staff))
    assert forbidden.status_code == 403
    for caller in ("routing", "feedback"):  # another service's own token: not its to read
        assert (
            await _read_code(pages, accepted["id"], requested.request_id, caller=caller)
        ).status_code == 403
    elsewhere = pages.identity.service_token(caller="notify", audience="feedback")
    assert (await pages.client.get(path, headers=pages.bearer(elsewhere))).status_code == 401
    assert (await _read_code(pages, other["id"], requested.request_id)).status_code == 404
    assert (await _read_code(pages, accepted["id"], requested.request_id)).status_code == 200


def test_the_helpers_are_shared() -> None:
    assert hidden_fields
