"""``POST /v1/sms/inbound?token=``: the provider's SmsUp push. A reply joins the complaint
of the latest SMS sent to that number (stored once per sequence id, the number only
hashed); "TD"/"退订" alone unsubscribes the number from non-transactional SMS; a number
notify never texted is ignored; a wrong token is refused, a malformed push is a 400."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from complaint_runtime.database import utcnow
from notify.messages.domain.recipients import phone_hash
from notify.replies.db import InboundReply
from notify.suppressions.db import Suppression
from sqlalchemy import select

from .conftest import CALLBACK_TOKEN, COMPLAINT_ID, Notify

OTHER_COMPLAINT = "0195f3c2-7a10-7c4e-9b2d-3f6a8e1d2c99"


def push(*messages: dict[str, Any]) -> str:
    return json.dumps(
        [
            {
                "phone_number": "13812345678",
                "send_time": "2026-12-07 10:00:00",
                "dest_code": "1234",
                "sign_name": "OpenComplaints",
                **message,
            }
            for message in messages
        ],
        ensure_ascii=False,
    )


async def post(notify: Notify, body: str, token: str = CALLBACK_TOKEN) -> Any:
    async with notify.client() as client:
        return await client.post(
            "/v1/sms/inbound",
            params={"token": token},
            content=body.encode(),
            headers={"Content-Type": "application/json"},
        )


async def texted(notify: Notify) -> str:
    """Two SMS deliveries to the number, the later one about COMPLAINT_ID."""
    # As the preparer hashes the number it sends to (written another way than the push's).
    key = phone_hash(key=notify.replies.hash_key, phone="+86 138-1234-5678")
    earlier = utcnow() - timedelta(days=3)
    await notify.add_delivery(
        delivery_id="d-old",
        complaint_id=OTHER_COMPLAINT,
        channel="sms",
        recipient_key=key,
        now=earlier,
    )
    await notify.add_delivery(delivery_id="d-new", channel="sms", recipient_key=key)
    return key


async def test_a_reply_joins_the_latest_texted_complaint_once(notify: Notify) -> None:
    await texted(notify)
    body = push({"content": "还是没有收到退款", "sequence_id": 1001})
    for _ in range(2):
        answer = await post(notify, body)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"code": 0, "msg": "接收成功"}
    async with notify.deps.database.sessions() as session:
        rows = list(await session.scalars(select(InboundReply)))
    assert [(r.complaint_id, r.channel, r.text, r.external_id) for r in rows] == [
        (COMPLAINT_ID, "sms", "还是没有收到退款", "sms:1001")
    ]


async def test_control_characters_are_dropped_from_an_sms_reply(notify: Notify) -> None:
    # intake refuses them in a message: kept, the reply would be refused there and lost.
    # (NUL never gets this far: the runtime refuses it in every request.)
    await texted(notify)
    body = push({"content": "\x08\x1b还是没有\x7f收到退款\n", "sequence_id": 1002})
    assert (await post(notify, body)).status_code == 200
    async with notify.deps.database.sessions() as session:
        rows = list(await session.scalars(select(InboundReply)))
    assert [r.text for r in rows] == ["还是没有收到退款"]
    assert (await post(notify, push({"content": "\x01\x1f", "sequence_id": 1003}))).is_success
    async with notify.deps.database.sessions() as session:
        assert len(list(await session.scalars(select(InboundReply)))) == 1  # nothing left


@pytest.mark.parametrize("word", ["TD", "退订", "stop"])
async def test_an_unsubscribe_word_suppresses_the_number(notify: Notify, word: str) -> None:
    key = await texted(notify)
    assert (await post(notify, push({"content": word, "sequence_id": 7}))).status_code == 200
    async with notify.deps.database.sessions() as session:
        suppressed = [
            (s.recipient_key, s.channel, s.reason)
            for s in await session.scalars(select(Suppression))
        ]
        replies = list(await session.scalars(select(InboundReply)))
    assert suppressed == [(key, "sms", "unsubscribe")]
    assert replies == []


async def test_a_number_never_texted_is_ignored(notify: Notify) -> None:
    answer = await post(notify, push({"content": "hello", "sequence_id": 5}))
    assert answer.status_code == 200
    async with notify.deps.database.sessions() as session:
        assert list(await session.scalars(select(InboundReply))) == []


async def test_a_wrong_token_is_refused(notify: Notify) -> None:
    await texted(notify)
    answer = await post(notify, push({"content": "x", "sequence_id": 9}), token="wrong")
    assert answer.status_code == 401
    async with notify.deps.database.sessions() as session:
        assert list(await session.scalars(select(InboundReply))) == []


async def test_a_malformed_push_is_a_400(notify: Notify) -> None:
    answer = await post(notify, '[{"content": "no number"}]')
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
