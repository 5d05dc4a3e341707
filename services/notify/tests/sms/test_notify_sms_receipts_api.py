"""POST /v1/sms/receipts: Alibaba Cloud's SmsReport push, through notify's app as
``main.create_app`` builds it. Authenticated by the callback token only (a wrong or missing
one is a 401 problem before the body is read), a malformed push is a 400 problem and writes
nothing, a receipt lands on its delivery, an unknown id is ignored, a repeat changes
nothing, and the provider gets the acknowledgement it expects."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from complaint_runtime.database import Base, utcnow
from complaint_runtime.dev_identity import DevIdentity
from fastapi import FastAPI
from notify.bootstrap import Dependencies
from notify.config import NotifySettings
from notify.deliveries.db import Delivery, DeliveryRepository
from notify.main import create_app
from sqlalchemy import select

TOKEN = "k3Jx9-QmZ2vT8pLw4RbN7yHc1sFd6uGe0aVi5oXj"
BIZ_ID = "932702304080415357^0"
ACK = {"code": 0, "msg": "接收成功"}
MAX_BODY = 4096

MakeApp = Callable[..., FastAPI]


@pytest.fixture
async def make_app(tmp_path: Path, identity: DevIdentity) -> AsyncIterator[MakeApp]:
    built: list[FastAPI] = []

    def make(**overrides: Any) -> FastAPI:
        settings = NotifySettings(
            **{
                "database_url": f"sqlite+aiosqlite:///{tmp_path}/notify-{len(built)}.db",
                "notify_sms_callback_token": TOKEN,
                "max_body_bytes": MAX_BODY,
                **{k.lower(): v for k, v in identity.env("notify").items()},
                **overrides,
            }
        )
        app = create_app(settings)
        built.append(app)
        return app

    yield make
    for app in built:
        deps: Dependencies = app.state.dependencies
        await deps.internal_api.aclose()
        await deps.database.dispose()


@pytest.fixture
async def app(make_app: MakeApp) -> FastAPI:
    app = make_app()
    deps: Dependencies = app.state.dependencies
    async with deps.database.engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    now = utcnow()
    async with deps.database.unit_of_work() as uow:
        await DeliveryRepository(uow.session).add_if_new(
            {
                "delivery_id": str(uuid.uuid4()),
                "complaint_id": str(uuid.uuid4()),
                "event_id": str(uuid.uuid4()),
                "event_type": "complaint.received",
                "template": "acknowledgement",
                "recipient_role": "customer",
                "recipient_slot": "",
                "channel": "sms",
                "context": {},
                "status": "sent",
                "attempts": 1,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
                "provider_message_id": BIZ_ID,
            }
        )
    return app


def report(**overrides: Any) -> dict[str, Any]:
    """The documentation's example report."""
    fields: dict[str, Any] = {
        "phone_number": "13812345678",
        "send_time": "2026-12-07 10:00:00",
        "report_time": "2026-12-07 10:00:05",
        "success": True,
        "err_code": "DELIVERED",
        "err_msg": "用户接收成功",
        "sms_size": "1",
        "biz_id": BIZ_ID,
        "out_id": "delivery-1",
    }
    fields.update(overrides)
    return fields


def push(*reports: dict[str, Any]) -> bytes:
    return json.dumps(list(reports), ensure_ascii=False).encode()


async def post(app: FastAPI, body: bytes, *, token: str | None = TOKEN) -> httpx.Response:
    params = {"token": token} if token is not None else {}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://notify"
    ) as client:
        return await client.post(
            "/v1/sms/receipts",
            params=params,
            content=body,
            headers={"Content-Type": "application/json;charset=utf-8"},
        )


async def receipt_of(app: FastAPI) -> tuple[str | None, str | None]:
    deps: Dependencies = app.state.dependencies
    async with deps.database.sessions() as session:
        found = (
            await session.execute(
                select(Delivery.receipt_status, Delivery.receipt_error).where(
                    Delivery.provider_message_id == BIZ_ID
                )
            )
        ).one()
    return found[0], found[1]


async def test_a_receipt_is_recorded_and_acknowledged_as_the_provider_expects(
    app: FastAPI,
) -> None:
    answer = await post(app, push(report(success=False, err_code="MK:0001", err_msg="停机")))
    assert answer.status_code == 200
    assert answer.json() == ACK
    assert await receipt_of(app) == ("failed", "MK:0001: 停机")


async def test_a_repeated_push_is_acknowledged_and_changes_nothing(app: FastAPI) -> None:
    assert (await post(app, push(report()))).json() == ACK
    # The same report again, and an older failure for the same id: nothing changes.
    older = report(success=False, err_code="MK:0001", report_time="2026-12-07 10:00:01")
    again = await post(app, push(report(), older))
    assert again.status_code == 200
    assert await receipt_of(app) == ("delivered", None)


async def test_an_unknown_biz_id_is_acknowledged_and_ignored(app: FastAPI) -> None:
    answer = await post(app, push(report(biz_id="111^0")))
    assert (answer.status_code, answer.json()) == (200, ACK)
    assert await receipt_of(app) == (None, None)


@pytest.mark.parametrize("token", [None, "", "wrong-token", TOKEN + "x", TOKEN[:-1]])
async def test_a_missing_or_wrong_token_is_401_and_writes_nothing(
    app: FastAPI, token: str | None
) -> None:
    answer = await post(app, push(report()), token=token)
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert await receipt_of(app) == (None, None)


async def test_the_token_is_checked_before_the_body_is_read(app: FastAPI) -> None:
    assert (await post(app, b"not json", token="wrong")).status_code == 401


async def test_without_a_configured_token_every_callback_is_refused(make_app: MakeApp) -> None:
    app = make_app(notify_sms_callback_token="")
    answer = await post(app, push(report()), token="")
    assert answer.status_code == 503
    assert "NOTIFY_SMS_CALLBACK_TOKEN" in answer.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"{}",
        b"[]",
        push(report(biz_id="")),
        push(report(success="yes")),
        push(report(), report(report_time="yesterday")),
    ],
)
async def test_a_malformed_push_is_a_400_problem_and_writes_nothing(
    app: FastAPI, body: bytes
) -> None:
    answer = await post(app, body)
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "13812345678" not in answer.text  # the problem never echoes the payload
    assert await receipt_of(app) == (None, None)


async def test_an_oversized_push_is_413(app: FastAPI) -> None:
    reports = [report(biz_id=f"{n}^0") for n in range(MAX_BODY // 100)]
    assert len(push(*reports)) > MAX_BODY
    answer = await post(app, push(*reports))
    assert answer.status_code == 413
    assert await receipt_of(app) == (None, None)
