"""Unsubscribe links and the preparer's check: GET shows a form and changes nothing (a
mail scanner may follow links), POST (one-click, RFC 8058) unsubscribes; a forged or
unknown token unsubscribes nobody; afterwards the NPS invitation is suppressed for that
recipient while notices about the complaint still go; a bounce suppresses everything."""

from __future__ import annotations

from complaint_runtime.database import utcnow
from notify.adapters.channels import OutgoingEmail, build_message
from notify.suppressions import suppression_for
from notify.suppressions.db import Suppression
from notify.suppressions.service import record_bounce
from sqlalchemy import select

from ..replies import conftest
from ..replies.conftest import Notify

notify = conftest.notify  # the fixture

DELIVERY_ID = "0195f3c2-7a10-7c4e-9b2d-3f6a8e1d2c42"
KEY = "b" * 64


async def suppressions(notify: Notify) -> list[tuple[str, str, str]]:
    async with notify.deps.database.sessions() as session:
        rows = await session.scalars(select(Suppression))
        return [(r.recipient_key, r.channel, r.reason) for r in rows]


async def reason_for(notify: Notify, template: str, channel: str = "email") -> str | None:
    async with notify.deps.database.sessions() as session:
        return await suppression_for(
            session=session, recipient_key=KEY, channel=channel, template=template
        )


def link(notify: Notify) -> str:
    url = notify.replies.addressing.unsubscribe_url(DELIVERY_ID)
    assert url is not None
    assert url.startswith(f"{conftest.PUBLIC_URL}/v1/unsubscribe?token=")
    return url.removeprefix(conftest.PUBLIC_URL)


async def test_the_page_asks_and_one_click_unsubscribes(notify: Notify) -> None:
    await notify.add_delivery(delivery_id=DELIVERY_ID, recipient_key=KEY, template="nps_invitation")
    async with notify.client() as client:
        page = await client.get(link(notify))
        assert page.status_code == 200
        assert '<form method="post"' in page.text
        assert await suppressions(notify) == []  # a GET changes nothing
        done = await client.post(link(notify), data={"List-Unsubscribe": "One-Click"})
        assert done.status_code == 200
        again = await client.post(link(notify), data={"List-Unsubscribe": "One-Click"})
        assert again.status_code == 200
    assert await suppressions(notify) == [(KEY, "email", "unsubscribe")]
    assert await reason_for(notify, "nps_invitation") == "unsubscribe"
    assert await reason_for(notify, "acknowledgement") is None  # transactional: still sent
    assert await reason_for(notify, "nps_invitation", channel="sms") is None


async def test_a_forged_or_unknown_link_unsubscribes_nobody(notify: Notify) -> None:
    await notify.add_delivery(delivery_id=DELIVERY_ID, recipient_key=KEY)
    forged = link(notify)[:-1] + ("0" if not link(notify).endswith("0") else "1")
    unknown = notify.replies.addressing.unsubscribe_url("0195f3c2-0000-7000-8000-000000000000")
    assert unknown is not None
    async with notify.client() as client:
        for url in (forged, unknown.removeprefix(conftest.PUBLIC_URL), "/v1/unsubscribe?token=x"):
            assert (await client.get(url)).status_code == 404
            assert (await client.post(url)).status_code == 404
    assert await suppressions(notify) == []


async def test_a_token_of_other_characters_is_a_404_not_a_500(notify: Notify) -> None:
    await notify.add_delivery(delivery_id=DELIVERY_ID, recipient_key=KEY)
    async with notify.client() as client:
        for tag in ("é" * 32, "０" * 32):
            params = {"token": f"{DELIVERY_ID}.{tag}"}
            assert (await client.get("/v1/unsubscribe", params=params)).status_code == 404
            assert (await client.post("/v1/unsubscribe", params=params)).status_code == 404
    assert await suppressions(notify) == []


async def test_a_bounce_suppresses_every_email(notify: Notify) -> None:
    await notify.add_delivery(delivery_id=DELIVERY_ID, recipient_key=KEY)
    async with notify.deps.database.unit_of_work() as uow:
        assert await record_bounce(session=uow.session, delivery_id=DELIVERY_ID, now=utcnow())
    for template in ("acknowledgement", "resolution", "nps_invitation"):
        assert await reason_for(notify, template) == "bounce"
    assert await reason_for(notify, "acknowledgement", channel="sms") is None


def test_the_email_carries_reply_to_and_one_click_unsubscribe() -> None:
    email = OutgoingEmail(
        delivery_id=DELIVERY_ID,
        to_address="zhang.wei@example.com",
        to_name=None,
        subject="How likely are you to recommend us?",
        body="...",
        template="nps_invitation",
        language="en",
        reply_to="reply+abc.0123@replies.example.org",
        unsubscribe_url="https://notify.example.org/v1/unsubscribe?token=t",
    )
    message = build_message(email, sender="OpenComplaints <no-reply@example.org>")
    assert message["Reply-To"] == "reply+abc.0123@replies.example.org"
    assert message["List-Unsubscribe"] == "<https://notify.example.org/v1/unsubscribe?token=t>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    plain = build_message(
        OutgoingEmail(DELIVERY_ID, "a@example.com", None, "s", "b", "acknowledgement", "en"),
        sender="n@example.org",
    )
    assert (plain["Reply-To"], plain["List-Unsubscribe"]) == (None, None)
