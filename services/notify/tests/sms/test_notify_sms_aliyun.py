"""The Alibaba Cloud SendSms adapter (notify.sms.aliyun) against a local HTTP server.

The server (``conftest.py``) checks every request's signature with its own
implementation of the documented algorithm (``urllib.parse.quote`` based, not the adapter's
code), then answers what the test asked for: OK, a throttling code, an illegal number, 500,
or nothing at all (a hang). Two fixed vectors from Alibaba Cloud's documentation pin the
signature itself.
"""

from __future__ import annotations

import json
import re
import socket
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from notify.sms.aliyun import (
    AliyunSmsProvider,
    canonical_query,
    percent_encode,
    signature,
    string_to_sign,
)
from notify.sms.domain.provider import (
    Accepted,
    FailedForGood,
    RetryLater,
    SmsRequest,
    Unknown,
)

from .conftest import KEY_ID, SECRET, FakeAliyun, reference_signature

# --- the documentation's vectors -------------------------------------------------------

# Alibaba Cloud's RPC signature documentation (ECS DescribeRegions, secret "testsecret").
RPC_DOC_PARAMS = {
    "AccessKeyId": "testid",
    "Action": "DescribeRegions",
    "Format": "XML",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
    "SignatureVersion": "1.0",
    "Timestamp": "2016-02-23T12:46:24Z",
    "Version": "2014-05-26",
}
RPC_DOC_STRING_TO_SIGN = (
    "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML"
    "%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"
    "%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z"
    "%26Version%3D2014-05-26"
)
RPC_DOC_SIGNATURE = "OLeaidS1JvxuMvnyHOwuJ+uX5qY="

# The SMS documentation's own example (HTTP protocol and signature, SendSms, "testSecret").
SMS_DOC_PARAMS = {
    "AccessKeyId": "testId",
    "Action": "SendSms",
    "Format": "XML",
    "OutId": "123",
    "PhoneNumbers": "15300000001",
    "RegionId": "cn-hangzhou",
    "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0",
    "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}',
    "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}
SMS_DOC_STRING_TO_SIGN = (
    "GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123"
    "%26PhoneNumbers%3D15300000001%26RegionId%3Dcn-hangzhou%26SignName%3D%25E9%2598%25BF"
    "%25E9%2587%258C%25E4%25BA%2591%25E7%259F%25AD%25E4%25BF%25A1%25E6%25B5%258B%25E8%25AF"
    "%2595%25E4%25B8%2593%25E7%2594%25A8%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce"
    "%3D45e25e9b-0a6f-4070-8c85-2956eda1b466%26SignatureVersion%3D1.0%26TemplateCode"
    "%3DSMS_71390007%26TemplateParam%3D%257B%2522customer%2522%253A%2522test%2522%257D"
    "%26Timestamp%3D2017-07-12T02%253A42%253A19Z%26Version%3D2017-05-25"
)
SMS_DOC_SIGNATURE = "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_the_reference_implementation_reproduces_both_documented_vectors() -> None:
    assert reference_signature("GET", RPC_DOC_PARAMS, "testsecret") == RPC_DOC_SIGNATURE
    assert reference_signature("GET", SMS_DOC_PARAMS, "testSecret") == SMS_DOC_SIGNATURE


def test_the_adapter_reproduces_the_rpc_documentation_vector() -> None:
    assert string_to_sign("GET", RPC_DOC_PARAMS) == RPC_DOC_STRING_TO_SIGN
    assert signature("GET", RPC_DOC_PARAMS, "testsecret") == RPC_DOC_SIGNATURE


def test_the_adapter_reproduces_the_sms_documentation_vector() -> None:
    assert string_to_sign("GET", SMS_DOC_PARAMS) == SMS_DOC_STRING_TO_SIGN
    assert signature("GET", SMS_DOC_PARAMS, "testSecret") == SMS_DOC_SIGNATURE
    assert signature("GET", {**SMS_DOC_PARAMS, "Signature": "x"}, "testSecret") == (
        SMS_DOC_SIGNATURE
    )


@pytest.mark.parametrize(
    ("text", "encoded"),
    [
        ("a b", "a%20b"),
        ("*", "%2A"),
        ("~-_.", "~-_."),
        ("/=&+:", "%2F%3D%26%2B%3A"),
        ("派", "%E6%B4%BE"),
        ('{"a":"b"}', "%7B%22a%22%3A%22b%22%7D"),
    ],
)
def test_percent_encoding_follows_the_documented_rule(text: str, encoded: str) -> None:
    assert percent_encode(text) == encoded


def test_the_canonical_query_is_sorted_by_name() -> None:
    assert canonical_query({"b": "2", "a": "1", "B": "3"}) == "B=3&a=1&b=2"


def provider(
    client: httpx.AsyncClient, url: str, *, secret: str = SECRET, key_id: str = KEY_ID
) -> AliyunSmsProvider:
    return AliyunSmsProvider(
        client=client, access_key_id=key_id, access_key_secret=secret, endpoint=url
    )


def sms(**overrides: Any) -> SmsRequest:
    fields: dict[str, Any] = {
        "phone_number": "+8613812345678",
        "sign_name": "投诉平台",
        "template_code": "SMS_100001",
        "template_params": {"reference": "C-2026-0001", "name": "张 伟 & *"},
        "out_id": "0d5c2f5e-delivery",
    }
    fields.update(overrides)
    return SmsRequest(**fields)


async def test_an_ok_answer_is_accepted_with_the_biz_id(
    fake: FakeAliyun, client: httpx.AsyncClient
) -> None:
    fake.replies.append(
        ("json", 200, {"Code": "OK", "Message": "OK", "BizId": "9006197469364984^0"})
    )
    outcome = await provider(client, fake.url).send(sms())
    assert outcome == Accepted("9006197469364984^0")
    (sent,) = fake.requests  # and the server verified its signature
    assert sent["Action"] == "SendSms"
    assert sent["Version"] == "2017-05-25"
    assert sent["Format"] == "JSON"
    assert sent["SignatureMethod"] == "HMAC-SHA1"
    assert sent["SignatureVersion"] == "1.0"
    assert sent["PhoneNumbers"] == "13812345678"
    assert sent["SignName"] == "投诉平台"
    assert sent["TemplateCode"] == "SMS_100001"
    assert json.loads(sent["TemplateParam"]) == {"reference": "C-2026-0001", "name": "张 伟 & *"}
    assert sent["OutId"] == "0d5c2f5e-delivery"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", sent["Timestamp"])


async def test_each_attempt_has_a_fresh_nonce_and_the_same_out_id(
    fake: FakeAliyun, client: httpx.AsyncClient
) -> None:
    sender = provider(client, fake.url)
    await sender.send(sms())
    await sender.send(sms())
    first, second = fake.requests
    assert first["SignatureNonce"] != second["SignatureNonce"]
    assert first["OutId"] == second["OutId"] == "0d5c2f5e-delivery"


async def test_the_rendered_text_gives_the_parts_aliyun_bills(
    fake: FakeAliyun, client: httpx.AsyncClient
) -> None:
    fake.replies.append(("json", 200, {"Code": "OK", "BizId": "1^0"}))
    outcome = await provider(client, fake.url).send(sms(rendered_text="投" * 65))
    assert outcome == Accepted("1^0", parts=2)  # 【投诉平台】 6 + 65 = 71 > 70


async def test_a_text_over_500_is_refused_before_sending(
    fake: FakeAliyun, client: httpx.AsyncClient
) -> None:
    outcome = await provider(client, fake.url).send(sms(rendered_text="投" * 495))
    assert isinstance(outcome, FailedForGood)
    assert outcome.code == "notify.SMS_TOO_LONG"
    assert fake.requests == []


@pytest.mark.parametrize(
    "code", ["isv.BUSINESS_LIMIT_CONTROL", "Throttling.User", "isv.DAY_LIMIT_CONTROL"]
)
async def test_throttling_is_retried_later(
    fake: FakeAliyun, client: httpx.AsyncClient, code: str
) -> None:
    fake.replies.append(("json", 200, {"Code": code, "Message": "触发分钟级流控Permits:1"}))
    outcome = await provider(client, fake.url).send(sms())
    assert outcome == RetryLater("触发分钟级流控Permits:1", code)


@pytest.mark.parametrize(
    "code",
    [
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.SMS_SIGNATURE_ILLEGAL",
    ],
)
async def test_refusals_fail_for_good_with_the_code_and_message(
    fake: FakeAliyun, client: httpx.AsyncClient, code: str
) -> None:
    fake.replies.append(("json", 200, {"Code": code, "Message": "非法 13812345678"}))
    outcome = await provider(client, fake.url).send(sms())
    assert isinstance(outcome, FailedForGood)
    assert outcome.code == code
    assert "13812345678" not in outcome.message  # a contact never reaches rows or logs


async def test_a_wrong_secret_is_signature_does_not_match(
    fake: FakeAliyun, client: httpx.AsyncClient
) -> None:
    outcome = await provider(client, fake.url, secret="wrong").send(sms())
    assert outcome == FailedForGood("SignatureDoesNotMatch", "bad signature")


async def test_an_unknown_key_is_invalid_access_key_id(
    fake: FakeAliyun, client: httpx.AsyncClient
) -> None:
    outcome = await provider(client, fake.url, key_id="other").send(sms())
    assert outcome == FailedForGood("InvalidAccessKeyId.NotFound", "no key")


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_5xx_is_retried_later(
    fake: FakeAliyun, client: httpx.AsyncClient, status: int
) -> None:
    fake.replies.append(("json", status, b"<html>oops</html>"))
    outcome = await provider(client, fake.url).send(sms())
    assert outcome == RetryLater(f"HTTP {status}")


async def test_a_2xx_without_a_code_is_unknown(fake: FakeAliyun, client: httpx.AsyncClient) -> None:
    fake.replies.append(("json", 200, b"not json"))
    outcome = await provider(client, fake.url).send(sms())
    assert isinstance(outcome, Unknown)


async def test_a_4xx_without_a_code_fails_for_good(
    fake: FakeAliyun, client: httpx.AsyncClient
) -> None:
    fake.replies.append(("json", 400, b"[]"))
    outcome = await provider(client, fake.url).send(sms())
    assert outcome == FailedForGood("HTTP 400", "an answer that has no Code")


async def test_a_hang_after_sending_is_unknown_not_retried(
    fake: FakeAliyun, client: httpx.AsyncClient
) -> None:
    fake.replies.append(("hang",))
    outcome = await provider(client, fake.url).send(sms())
    assert isinstance(outcome, Unknown)
    assert "ReadTimeout" in outcome.reason
    assert len(fake.requests) == 1  # it reached the provider: that is why it is uncertain


async def test_a_refused_connection_is_retried_later(client: httpx.AsyncClient) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    outcome = await provider(client, f"http://127.0.0.1:{port}/").send(sms())
    assert isinstance(outcome, RetryLater)
    assert "ConnectError" in outcome.reason


async def test_signed_params_with_a_fixed_clock_and_nonce_verify_independently(
    client: httpx.AsyncClient,
) -> None:
    sender = AliyunSmsProvider(
        client=client,
        access_key_id=KEY_ID,
        access_key_secret=SECRET,
        clock=lambda: datetime(2026, 12, 7, 10, 30, 5, tzinfo=UTC),
        nonce=lambda: "fixed-nonce",
    )
    params = sender.signed_params(sms(template_params={}))
    assert params["Timestamp"] == "2026-12-07T10:30:05Z"
    assert params["SignatureNonce"] == "fixed-nonce"
    assert "TemplateParam" not in params
    assert params["Signature"] == reference_signature("POST", params, SECRET)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"access_key_secret": ""}, "access key"),
        ({"endpoint": "ftp://dysmsapi.aliyuncs.com/"}, "http"),
    ],
)
async def test_the_adapter_refuses_a_bad_configuration(
    client: httpx.AsyncClient, kwargs: dict[str, str], message: str
) -> None:
    arguments: dict[str, Any] = {
        "client": client,
        "access_key_id": KEY_ID,
        "access_key_secret": SECRET,
        **kwargs,
    }
    with pytest.raises(ValueError, match=message):
        AliyunSmsProvider(**arguments)
