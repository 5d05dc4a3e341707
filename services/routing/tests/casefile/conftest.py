"""Fixtures of the case file tests: complaints received through routing's own handler
table (triage, case file, search terms, as the consumer does), SLA clock events, staff
tokens and an HTTP client over the case file and case command routers."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from complaint_contracts.events import (
    AttachmentRef,
    ComplaintReceived,
    CustomerView,
    SlaClockStarted,
)
from routing.casefile.api import router as case_file_router
from routing.cases.api import router as case_commands_router

from ..conftest import service_auth
from ..conftest import staff_auth as auth

NOW = datetime.now(UTC).replace(microsecond=0)
REFUND = ("退款迟迟未到账", "我10月28日申请的退款到现在还没到账，退款延迟太久了。")  # billing
LEAK = ("热水器漏水", "新买的热水器漏水，地板都湿了")  # product_quality → quality
PARCEL = ("快递没送到", "快递一直没送到，物流信息三天不更新")  # delivery_logistics → logistics

Receive = Callable[..., Awaitable[str]]
StartClock = Callable[..., Awaitable[str]]


LI = auth("agent-li", "agent", team="billing")  # the billing agent cases go to
WANG = auth("agent-wang", "agent", team="quality")
BILLING_LEAD = auth("lead-zhao", "lead", team="billing")
QUALITY_LEAD = auth("lead-qian", "lead", team="quality")
MANAGER = auth("mgr-sun", "manager")
ADMIN = auth("admin-1", "admin")
SERVICE = service_auth("notify")


def received(
    *,
    reference: str,
    subject: str = REFUND[0],
    description: str = REFUND[1],
    channel: str = "web",
    customer: dict[str, Any] | None = None,
    received_at: datetime | None = None,
    complaint_id: str | None = None,
    **fields: Any,
) -> ComplaintReceived:
    """A ``complaint.received`` of a new customer unless ``customer`` names one."""
    view = {"customer_ref": f"cr_{uuid.uuid4().hex[:12]}", **(customer or {})}
    return ComplaintReceived(
        complaint_id=complaint_id or str(uuid.uuid4()),
        reference=reference,
        channel=channel,
        customer=CustomerView(**view),
        subject=subject,
        description=description,
        received_at=received_at or NOW,
        **fields,
    )


@pytest.fixture
def receive(feed: Any) -> Receive:
    """``await receive(...)``: a complaint received (and triaged) as routing's consumer
    would; its id. References count up: C-20261201-000001, ..."""
    numbers = itertools.count(1)

    async def make(**fields: Any) -> str:
        fields.setdefault("reference", f"C-20261201-{next(numbers):06d}")
        event = received(**fields)
        await feed(event)
        return event.complaint_id

    return make


def seconds_until(due_at: datetime) -> float:
    """What ``time_left_s`` should say now of a clock due at ``due_at``: ``NOW`` is fixed at
    import, and a loaded machine may run this test minutes later."""
    return (due_at - datetime.now(UTC)).total_seconds()


@pytest.fixture
def start_clock(feed: Any) -> StartClock:
    """``await start_clock(complaint_id, due_in=timedelta)``: sla-watch's clock_started."""

    async def start(
        complaint_id: str,
        *,
        due_in: timedelta = timedelta(hours=4),
        metric: str = "resolution",
        clock_id: str | None = None,
    ) -> str:
        clock_id = clock_id or f"clk-{uuid.uuid4().hex[:8]}"
        await feed(
            SlaClockStarted(
                complaint_id=complaint_id,
                clock_id=clock_id,
                metric=metric,
                target_seconds=14_400,
                started_at=NOW,
                due_at=NOW + due_in,
                calendar_id="24x7",
                policy_id="default-P3",
                priority="P3",
            )
        )
        return clock_id

    return start


@pytest.fixture
async def client(api_client: Any, seed: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Agents: agent-li (billing), agent-wang (quality); the case file and the commands."""
    await seed(
        [
            {"id": "agent-li", "team": "billing", "capacity": 50},
            {"id": "agent-wang", "team": "quality", "capacity": 50},
        ]
    )
    async with api_client(case_file_router, case_commands_router) as c:
        yield c


def attachment(url: str = "https://files.example.com/receipt.jpg") -> AttachmentRef:
    return AttachmentRef(url=url, media_type="image/jpeg", size=2048)
