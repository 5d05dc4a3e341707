"""What Alibaba Cloud answers after it may have taken the SMS never escapes as an exception
nor breaks the delivery row: a BizId the row cannot keep is dropped, an answer longer than
the bound or one that cannot be decoded (a corrupt gzip body) is Unknown, never retried."""

from __future__ import annotations

import json

import httpx
import pytest
from notify.sms.aliyun import MAX_ANSWER_BYTES
from notify.sms.domain.provider import Accepted, Unknown

from .conftest import FakeAliyun
from .test_notify_sms_aliyun import provider, sms


@pytest.mark.parametrize(
    ("biz_id", "kept"),
    [
        ("9" * 100, "9" * 100),  # exactly what deliveries.provider_message_id holds
        ("9" * 101, None),  # longer: PostgreSQL would refuse the row, the send uncertain
        ("123^456\nforged log line", None),
        ("123\x00", None),
        (123456, None),
        ("", None),
    ],
)
async def test_a_biz_id_the_row_cannot_keep_is_dropped_and_the_sms_still_accepted(
    fake: FakeAliyun, client: httpx.AsyncClient, biz_id: object, kept: str | None
) -> None:
    fake.replies.append(("json", 200, {"Code": "OK", "Message": "OK", "BizId": biz_id}))
    outcome = await provider(client, fake.url).send(sms())
    assert isinstance(outcome, Accepted)
    assert outcome.biz_id == kept


async def test_an_answer_longer_than_the_bound_is_unknown(
    fake: FakeAliyun, client: httpx.AsyncClient
) -> None:
    padding = "x" * MAX_ANSWER_BYTES
    fake.replies.append(("json", 200, {"Code": "OK", "BizId": "1", "Padding": padding}))
    outcome = await provider(client, fake.url).send(sms())
    assert isinstance(outcome, Unknown)
    assert "bytes" in outcome.reason


async def test_a_corrupt_gzip_answer_after_sending_is_unknown(
    fake: FakeAliyun, client: httpx.AsyncClient
) -> None:
    body = json.dumps({"Code": "OK", "BizId": "1"}).encode()  # not gzip at all
    fake.replies.append(("raw", 200, {"Content-Encoding": "gzip"}, body))
    outcome = await provider(client, fake.url).send(sms())
    assert isinstance(outcome, Unknown)
    assert "DecodingError" in outcome.reason
    assert len(fake.requests) == 1


async def test_json_nested_too_deep_to_parse_is_an_answer_without_a_code(
    fake: FakeAliyun, client: httpx.AsyncClient
) -> None:
    fake.replies.append(("raw", 200, {"Content-Type": "application/json"}, b"[" * 60_000))
    outcome = await provider(client, fake.url).send(sms())
    assert isinstance(outcome, Unknown)
