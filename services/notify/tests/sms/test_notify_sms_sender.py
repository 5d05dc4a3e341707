"""The SMS channel (notify.sms.sender) against the local Alibaba Cloud server of
``conftest.py``: the sender is built by ``make_sms_sender`` from the settings as bootstrap
builds it, and each provider behaviour (fails N times, hangs, refuses a template, succeeds
with a BizId) must become the SendReceipt or SendError the delivery loop acts on."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from notify.adapters.channels import SendError
from notify.adapters.outgoing import OutgoingSms, SendReceipt
from notify.config import NotifySettings
from notify.sms.domain.provider import SmsOutcome, SmsRequest
from notify.sms.sender import SmsSender, make_sms_sender
from pydantic import ValidationError

from .conftest import KEY_ID, SECRET, FakeAliyun

SIGN = "投诉平台"
DELIVERY_ID = "5b0e6f1c-3c55-4a8e-9a53-6a1f0b7c2d11"
CALLBACK_TOKEN = "k3Jx9-QmZ2vT8pLw4RbN7yHc1sFd6uGe0aVi5oXj"

Build = Callable[..., SmsSender]


def sms_settings(**overrides: Any) -> NotifySettings:
    values: dict[str, Any] = {
        "notify_sms_provider": "aliyun",
        "notify_sms_access_key_id": KEY_ID,
        "notify_sms_access_key_secret": SECRET,
        "notify_sms_sign_name": SIGN,
        "notify_sms_templates": {"acknowledgement": "SMS_100001", "resolution": "SMS_100002"},
        "notify_sms_timeout_s": 0.5,  # the "hang" answer ends in a read timeout quickly
        **overrides,
    }
    return NotifySettings(**values)


@pytest.fixture
async def build(fake: FakeAliyun) -> AsyncIterator[Build]:
    """``build(**settings)``: the sender ``make_sms_sender`` makes for the local server."""
    made: list[SmsSender] = []

    def make(**overrides: Any) -> SmsSender:
        sender = make_sms_sender(sms_settings(**{"notify_sms_endpoint": fake.url, **overrides}))
        assert sender is not None
        made.append(sender)
        return sender

    yield make
    for sender in made:
        await sender.aclose()


def message(**overrides: Any) -> OutgoingSms:
    fields: dict[str, Any] = {
        "delivery_id": DELIVERY_ID,
        "complaint_id": "0195f3c2-7a10-7c4e-9b2d-3f6a8e1d2c40",
        "phone_number": "+86 138-1234-5678",
        "template": "acknowledgement",
        "language": "zh-CN",
        "text": "您的投诉 C-2026-0001 已受理，我们会尽快处理。",
        "params": {"reference": "C-2026-0001"},
    }
    fields.update(overrides)
    return OutgoingSms(**fields)


async def send_error(sender: SmsSender, sms: OutgoingSms) -> SendError:
    with pytest.raises(SendError) as raised:
        await sender.send(sms)
    return raised.value


# -- the provider's answers


async def test_an_accepted_sms_answers_the_biz_id_and_sent_what_was_configured(
    fake: FakeAliyun, build: Build
) -> None:
    fake.replies.append(("json", 200, {"Code": "OK", "BizId": "9006197469364984^0"}))
    receipt = await build().send(message())
    assert receipt == SendReceipt(channel="sms", provider_message_id="9006197469364984^0")
    (sent,) = fake.requests  # and the server verified its signature
    assert sent["PhoneNumbers"] == "13812345678"  # normalised from "+86 138-1234-5678"
    assert sent["SignName"] == SIGN
    assert sent["TemplateCode"] == "SMS_100001"
    assert json.loads(sent["TemplateParam"]) == {"reference": "C-2026-0001"}
    assert sent["OutId"] == DELIVERY_ID


async def test_a_provider_failing_n_times_is_retryable_each_time_then_accepted(
    fake: FakeAliyun, build: Build
) -> None:
    fake.replies += [
        ("json", 200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控"}),
        ("json", 503, b"busy"),
        ("json", 200, {"Code": "isp.SYSTEM_ERROR", "Message": "system error"}),
        ("json", 200, {"Code": "OK", "BizId": "1^0"}),
    ]
    sender = build()
    for _ in range(3):
        error = await send_error(sender, message())
        assert (error.retryable, error.uncertain) == (True, False)
    assert await sender.send(message()) == SendReceipt("sms", "1^0")
    assert {r["OutId"] for r in fake.requests} == {DELIVERY_ID}  # the same on every attempt
    assert len(fake.requests) == 4


async def test_a_provider_that_hangs_after_the_request_is_uncertain_not_retried(
    fake: FakeAliyun, build: Build
) -> None:
    fake.replies.append(("hang",))
    error = await send_error(build(), message())
    assert (error.retryable, error.uncertain) == (False, True)
    assert "unknown" in str(error)
    assert len(fake.requests) == 1  # it reached the provider: that is why it is uncertain


async def test_a_refused_template_is_final_with_the_providers_code(
    fake: FakeAliyun, build: Build
) -> None:
    fake.replies.append(
        ("json", 200, {"Code": "isv.SMS_TEMPLATE_ILLEGAL", "Message": "模板不合法"})
    )
    error = await send_error(build(), message())
    assert (error.retryable, error.uncertain) == (False, False)  # the next channel is tried
    assert "isv.SMS_TEMPLATE_ILLEGAL" in str(error)


async def test_a_provider_that_cannot_be_reached_is_retryable(build: Build) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sender = build(notify_sms_endpoint=f"http://127.0.0.1:{port}/")
    error = await send_error(sender, message())
    assert (error.retryable, error.uncertain) == (True, False)


# -- refused before the provider is called


@pytest.mark.parametrize(
    "number", ["010-12345678", "+1 415 555 0100", "12345", "", "138 1234 567x"]
)
async def test_a_number_that_is_not_a_mobile_number_is_final_and_never_sent(
    fake: FakeAliyun, build: Build, number: str
) -> None:
    error = await send_error(build(), message(phone_number=number))
    assert (error.retryable, error.uncertain) == (False, False)
    assert "not a mobile number" in str(error)
    assert fake.requests == []
    if number:
        assert number not in str(error)


async def test_a_template_without_a_provider_code_is_final_and_names_it(
    fake: FakeAliyun, build: Build
) -> None:
    error = await send_error(build(), message(template="survey_invitation"))
    assert (error.retryable, error.uncertain) == (False, False)
    assert "'survey_invitation'" in str(error)
    assert "NOTIFY_SMS_TEMPLATES" in str(error)
    assert fake.requests == []


async def test_a_text_over_the_configured_parts_is_final_and_never_sent(
    fake: FakeAliyun, build: Build
) -> None:
    sender = build(notify_sms_max_parts=2)
    # 【投诉平台】 is 6: 6 + 128 = 134 = two parts of 67; one more character is three.
    assert sender.parts_of("投" * 64) == 1
    assert sender.parts_of("投" * 128) == 2
    assert sender.parts_of("投" * 129) == 3
    assert await sender.send(message(text="投" * 128)) == SendReceipt("sms", None)
    error = await send_error(sender, message(text="投" * 129))
    assert (error.retryable, error.uncertain) == (False, False)
    assert "3 parts" in str(error)
    assert len(fake.requests) == 1  # only the two-part text went out


async def test_a_provider_that_never_returns_is_cut_off_as_uncertain() -> None:
    class Stuck:
        async def send(self, request: SmsRequest) -> SmsOutcome:
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

    sender = SmsSender(
        provider=Stuck(),
        sign_name=SIGN,
        templates={"acknowledgement": "SMS_1"},
        max_parts=3,
        timeout_s=0.02,
    )
    error = await send_error(sender, message())
    assert (error.retryable, error.uncertain) == (False, True)


# -- settings


def test_no_provider_means_no_sms_channel() -> None:
    assert make_sms_sender(NotifySettings()) is None


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"notify_sms_access_key_id": ""}, "NOTIFY_SMS_ACCESS_KEY_ID"),
        ({"notify_sms_access_key_secret": ""}, "NOTIFY_SMS_ACCESS_KEY_SECRET"),
        ({"notify_sms_sign_name": ""}, "NOTIFY_SMS_SIGN_NAME"),
        ({"notify_sms_templates": {}}, "NOTIFY_SMS_TEMPLATES"),
        ({"notify_sms_templates": {"acknowledgement": " "}}, "NOTIFY_SMS_TEMPLATES"),
        ({"notify_sms_endpoint": "ftp://dysmsapi.aliyuncs.com/"}, "NOTIFY_SMS_ENDPOINT"),
        ({"notify_sms_callback_token": "short"}, "NOTIFY_SMS_CALLBACK_TOKEN"),
    ],
)
def test_an_incomplete_sms_configuration_stops_the_start(
    overrides: dict[str, Any], named: str
) -> None:
    with pytest.raises(ValidationError, match=named):
        sms_settings(**overrides)


def test_a_complete_configuration_is_accepted() -> None:
    settings = sms_settings(notify_sms_callback_token=CALLBACK_TOKEN)
    assert settings.notify_sms_templates["acknowledgement"] == "SMS_100001"
