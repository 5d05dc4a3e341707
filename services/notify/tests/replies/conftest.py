"""Notify as ``main.create_app`` builds it for the reply tests: replies on (a reply domain,
a public URL, an SMS callback token), its database created in a temporary directory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from complaint_runtime.database import Base, utcnow
from complaint_runtime.dev_identity import DevIdentity
from fastapi import FastAPI
from notify.bootstrap import Dependencies
from notify.config import NotifySettings
from notify.deliveries.db import Delivery
from notify.main import create_app
from notify.replies.loop import Replies

REPLY_DOMAIN = "replies.example.org"
PUBLIC_URL = "https://notify.example.org"
CALLBACK_TOKEN = "sms-callback-token-0123456789abcdefXYZ"
COMPLAINT_ID = "0195f3c2-7a10-7c4e-9b2d-3f6a8e1d2c40"


@dataclass
class Notify:
    app: FastAPI
    deps: Dependencies

    @property
    def replies(self) -> Replies:
        assert self.deps.replies is not None
        return self.deps.replies

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://notify"
        )

    async def add_delivery(self, **values: Any) -> Delivery:
        now: datetime = values.pop("now", utcnow())
        delivery_id = values.pop("delivery_id")
        row = Delivery(
            **{
                "delivery_id": delivery_id,
                "complaint_id": COMPLAINT_ID,
                "event_id": f"ev-{delivery_id}",
                "event_type": "complaint.received",
                "template": "acknowledgement",
                "recipient_role": "customer",
                "recipient_slot": "",
                "recipient_masked": "z***@example.com",
                "recipient_key": "k" * 64,
                "channel": "email",
                "context": {},
                "status": "sent",
                "attempts": 1,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
                **values,
            }
        )
        async with self.deps.database.unit_of_work() as uow:
            uow.session.add(row)
        return row


def settings_for(tmp_path: Path, identity: DevIdentity, **values: Any) -> NotifySettings:
    return NotifySettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/notify.db",
        notify_reply_domain=REPLY_DOMAIN,
        notify_public_url=PUBLIC_URL,
        notify_sms_callback_token=CALLBACK_TOKEN,
        **{k.lower(): v for k, v in identity.env("notify").items()},
        **values,
    )


@pytest.fixture
async def notify(tmp_path: Path, identity: DevIdentity) -> AsyncIterator[Notify]:
    app = create_app(settings_for(tmp_path, identity))
    deps: Dependencies = app.state.dependencies
    async with deps.database.engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield Notify(app, deps)
    await deps.internal_api.aclose()
    await deps.database.dispose()
