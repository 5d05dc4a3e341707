"""What the console's tests share besides fixtures (importable: pyproject's pytest
``pythonpath`` lists this directory): tokens, sample answers of routing, a fake upstream
service recording every request with its bearer token, and a browser of the console that
checks the tokens the console sent for it (:meth:`Browser.sent`)."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
from complaint_runtime.dev_identity import DevIdentity
from complaint_runtime.errors import Unauthorized
from complaint_runtime.identity import Principal
from console.bootstrap import Dependencies

CASE_ID = "0192f3a4-5b6c-7d8e-9f00-112233445566"
OTHER_CASE_ID = "0192f3a4-5b6c-7d8e-9f00-aabbccddeeff"
BASE_URL = "http://console.test"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def token_for(
    identity: DevIdentity,
    subject: str = "agent-billing",
    roles: tuple[str, ...] = ("agent",),
    team: str | None = "billing",
    ttl_s: int = 3600,
    audience: str | list[str] = "console",
) -> str:
    """A token of the development identity provider, to paste into the sign-in form."""
    return identity.token(
        subject=subject, roles=list(roles), team=team, ttl_s=ttl_s, audience=audience
    )


AGENT = {"subject": "agent-billing", "roles": ("agent",), "team": "billing"}
LEAD = {"subject": "lead-billing", "roles": ("lead",), "team": "billing"}
MANAGER = {"subject": "manager-1", "roles": ("manager",), "team": None}


def iso(moment: datetime) -> str:
    return moment.isoformat()


def case_row(**overrides: Any) -> dict[str, Any]:
    """One item of routing's ``GET /v1/cases``."""
    now = datetime.now(UTC)
    row = {
        "complaint_id": CASE_ID,
        "reference": "C-20261206-000042",
        "subject": "退款延迟 refund delayed",
        "channel": "web",
        "tier": "gold",
        "priority": "P2",
        "status": "assigned",
        "category": "billing_refund",
        "subcategory": None,
        "team": "billing",
        "assignee": "agent-billing",
        "escalation_level": 0,
        "version": 3,
        "sla_state": "on_track",
        "sla_due_at": iso(now + timedelta(hours=1, minutes=20, seconds=30)),
        "sla_time_left_s": 4830,
        "sla_warned_percent": None,
        "last_activity_at": iso(now - timedelta(minutes=5)),
        "received_at": iso(now - timedelta(hours=2)),
    }
    return row | overrides


def case_file(**overrides: Any) -> dict[str, Any]:
    """Routing's ``GET /v1/cases/{id}``: a billing case in progress with a customer message,
    a first response, an internal note and a running clock."""
    now = datetime.now(UTC)
    received = now - timedelta(hours=3)
    case = {
        "complaint_id": CASE_ID,
        "reference": "C-20261206-000042",
        "status": "in_progress",
        "category": "billing_refund",
        "subcategory": "refund_delay",
        "confidence": 0.92,
        "priority": "P2",
        "emotion": "yellow",
        "team": "billing",
        "assignee": "agent-billing",
        "owner": "agent-billing",
        "rules_fired": [{"rule": "category.billing_refund.keyword", "detail": "matched '退款'"}],
        "received_at": iso(received),
        "updated_at": iso(now - timedelta(minutes=10)),
        "first_response_at": iso(received + timedelta(minutes=30)),
        "solution_summary": None,
        "solution_type": None,
        "root_cause": None,
        "preventive_measure": None,
        "resolved_at": None,
        "closed_at": None,
        "close_reason": None,
        "reopen_count": 0,
        "escalation_level": 1,
        "version": 7,
        "actions": [
            _action("received", "intake", None, "received", received),
            _action("triaged", "routing", "received", "triaged", received),
            _action("assigned", "routing", "triaged", "assigned", received),
            _action(
                "first_response_sent",
                "agent-billing",
                "assigned",
                "in_progress",
                received + timedelta(minutes=30),
            ),
            _action(
                "escalated",
                "sla-watch",
                "in_progress",
                "in_progress",
                received + timedelta(hours=1),
            ),
        ],
        "channel": "web",
        "customer": {
            "customer_ref": "cref-1",
            "external_ref": None,
            "masked_phone": "138****5678",
            "masked_email": "z***@example.com",
            "tier": "gold",
            "language": "zh-CN",
            "preferred_channel": "email",
        },
        "subject": "退款延迟 refund delayed",
        "description": "我10月28日申请的退款到现在还没到账，退款延迟太久了。",
        "order_ref": "ORD-778899",
        "occurred_at": None,
        "attachments": [],
        "metadata": {},
        "related_complaint_id": None,
        "texts_erased_at": None,
        "last_activity_at": iso(now - timedelta(minutes=10)),
        "sla": {
            "state": "at_risk",
            "due_at": iso(now + timedelta(minutes=20)),
            "time_left_s": 1200,
            "at_risk": True,
            "breached": False,
            "clocks": [
                {
                    "clock_id": "c1",
                    "metric": "first_response",
                    "state": "stopped",
                    "target_seconds": 14400,
                    "started_at": iso(received),
                    "due_at": iso(received + timedelta(hours=4)),
                    "time_left_s": None,
                    "warned_percent": None,
                    "breached": False,
                    "outcome": "met",
                    "stopped_at": iso(received + timedelta(minutes=30)),
                    "message_id": None,
                },
                {
                    "clock_id": "c2",
                    "metric": "resolution",
                    "state": "running",
                    "target_seconds": 172800,
                    "started_at": iso(received),
                    "due_at": iso(now + timedelta(minutes=20)),
                    "time_left_s": 1200,
                    "warned_percent": 90,
                    "breached": False,
                    "outcome": None,
                    "stopped_at": None,
                    "message_id": None,
                },
            ],
        },
        "duplicates": {"duplicate_of": None, "copies": [], "repeat_count": 1},
        "conversation": [
            {
                "kind": "first_response",
                "internal": False,
                "author": "agent-billing",
                "channel": "email",
                "text": "您好，我们正在核实退款。",
                "attachments": [],
                "message_id": None,
                "in_reply_to": None,
                "at": iso(received + timedelta(minutes=30)),
            },
            {
                "kind": "customer_message",
                "internal": False,
                "author": "customer",
                "channel": "web",
                "text": "请尽快处理！",
                "attachments": [],
                "message_id": "msg-1",
                "in_reply_to": None,
                "at": iso(received + timedelta(hours=2)),
            },
            {
                "kind": "note",
                "internal": True,
                "author": "lead-billing",
                "channel": None,
                "text": "财务已确认退款批次延迟。",
                "attachments": [],
                "message_id": None,
                "in_reply_to": None,
                "at": iso(received + timedelta(hours=2, minutes=10)),
            },
        ],
        "earlier_complaints": [
            {
                "complaint_id": OTHER_CASE_ID,
                "reference": "C-20261101-000007",
                "status": "closed",
                "category": "billing_refund",
                "received_at": iso(now - timedelta(days=35)),
            }
        ],
        "tasks": [],
    }
    return case | overrides


def task(**overrides: Any) -> dict[str, Any]:
    """One of routing's tasks (``GET /v1/tasks`` items, the case file's ``tasks``; routing's
    ``TaskOut``): a review of the case after a reopen, for the billing team's lead, not
    picked up yet."""
    now = datetime.now(UTC)
    found = {
        "id": 5,
        "kind": "review_reopen",
        "complaint_id": CASE_ID,
        "team": "billing",
        "status": "open",
        "assignee": None,
        "reason": "客户表示未解决",
        "detail": {},
        "created_by": "feedback",
        "created_at": iso(now - timedelta(hours=1)),
        "due_at": iso(now + timedelta(hours=23)),
        "available_from": None,
        "overdue": False,
        "assigned_by": None,
        "assigned_at": None,
        "outcome": None,
        "csat": None,
        "note": None,
        "completed_by": None,
        "completed_at": None,
    }
    return found | overrides


def follow_up_call(*, resolved_days_ago: float = 20, **overrides: Any) -> dict[str, Any]:
    """A 回访 follow-up call of a P2 case resolved ``resolved_days_ago`` days ago: workable
    from 15 days after the resolution, due by 30 days (overdue after that), assigned to the
    case's first-contact owner."""
    now = datetime.now(UTC)
    resolved = now - timedelta(days=resolved_days_ago)
    due = resolved + timedelta(days=30)
    return task(
        **{
            "id": 8,
            "kind": "follow_up_call",
            "reason": "resolved",
            "detail": {"priority": "P2", "resolved_at": iso(resolved)},
            "created_by": "routing",
            "created_at": iso(resolved),
            "available_from": iso(resolved + timedelta(days=15)),
            "due_at": iso(due),
            "overdue": now > due,
            "assignee": "agent-billing",
            "assigned_by": "routing",
            "assigned_at": iso(resolved),
        }
        | overrides
    )


def unreachable_task(**overrides: Any) -> dict[str, Any]:
    """The lead's task about a customer no channel reached for the confirmation request."""
    now = datetime.now(UTC)
    return task(
        **{
            "id": 9,
            "kind": "customer_unreachable",
            "reason": "no_channel",
            "detail": {"notification_id": "n-1", "cause_event_id": "e-1", "recipient": "customer"},
            "created_by": "routing",
            "created_at": iso(now - timedelta(hours=2)),
            "due_at": iso(now + timedelta(hours=22)),
        }
        | overrides
    )


def task_page(
    *tasks: dict[str, Any], overdue_count: int = 0, next: str | None = None
) -> dict[str, Any]:
    """Routing's ``GET /v1/tasks`` answer (``TaskListOut``)."""
    return {"items": list(tasks), "next": next, "overdue_count": overdue_count}


def _action(action: str, actor: str, old: str | None, new: str, at: datetime) -> dict[str, Any]:
    return {
        "actor": actor,
        "action": action,
        "from_status": old,
        "to_status": new,
        "event_id": None,
        "detail": {},
        "at": iso(at),
    }


OPENAPI = {
    "paths": {
        "/v1/cases": {"get": {}},
        "/v1/cases/{complaint_id}": {"get": {}},
        "/v1/cases/{complaint_id}/notes": {"post": {}},
        "/v1/canned-replies": {"get": {}},
        "/v1/tasks": {
            "get": {
                "parameters": [
                    {"name": name, "in": "query"}
                    for name in ("status", "team", "assignee", "kind", "overdue", "limit", "cursor")
                ]
            }
        },
        "/v1/tasks/{task_id}/assign": {"post": {}},
        "/v1/tasks/{task_id}/complete": {"post": {}},
        "/v1/cases/{complaint_id}/escalate": {"post": {}},
        "/v1/cases/{complaint_id}/duplicate-of": {"post": {}},
        "/v1/cases/{complaint_id}/duplicate-of/unlink": {"post": {}},
        "/v1/cases/{complaint_id}/contact/reveal": {"post": {}},
    }
}


@dataclass
class Seen:
    method: str
    path: str
    params: list[tuple[str, str]]
    headers: dict[str, str]
    body: Any

    @property
    def token(self) -> str | None:
        value = self.headers.get("authorization", "")
        return value[7:] if value.startswith("Bearer ") else None


@dataclass
class FakeUpstream:
    """routing or sla-watch: answers by (method, path pattern), records every request.
    ``answer(method, pattern, status, body)`` puts an answer first; ``down = True``: every
    request fails to connect."""

    routes: list[tuple[str, re.Pattern[str], int, Any]] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    down: bool = False

    def answer(self, method: str, pattern: str, status: int, body: Any) -> None:
        self.routes.insert(0, (method, re.compile(f"^{pattern}$"), status, body))

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.seen.append(
            Seen(
                request.method,
                request.url.path,
                list(request.url.params.multi_items()),
                dict(request.headers),
                body,
            )
        )
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        for method, pattern, status, answer in self.routes:
            if method == request.method and pattern.match(request.url.path):
                content = answer(request) if callable(answer) else answer
                return httpx.Response(
                    status,
                    json=content,
                    headers={"content-type": "application/problem+json"} if status >= 400 else None,
                )
        return httpx.Response(404, json={"type": "about:blank", "title": "Not Found"})

    def requests(self, method: str, path: str) -> list[Seen]:
        return [s for s in self.seen if s.method == method and s.path == path]

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


def problem(status: int, kind: str, detail: str, **members: Any) -> dict[str, Any]:
    return {
        "type": f"https://docs.opencomplaints.org/problems/{kind}",
        "title": kind.replace("-", " ").capitalize(),
        "status": status,
        "detail": detail,
        **members,
    }


@dataclass
class Browser:
    """A signed-in (or not) browser of the console: an httpx client keeping the cookies."""

    http: httpx.AsyncClient
    deps: Dependencies
    identity: DevIdentity
    user: Principal | None = None  # whom the token it signed in with names

    def sent(self, call: Seen, audience: str = "routing") -> bool:
        """``call`` carried a token the console signed (its own key) for this browser's
        user and for ``audience`` only: the other upstream service refuses it."""
        assert self.user is not None, "the browser signed in with no valid token"
        token = call.token or ""
        principal = self.identity.verifier(audience).verify(token)
        assert principal == self.user, (principal, self.user)
        assert jwt.get_unverified_header(token)["kid"] == self.identity.services["console"].kid
        other = "sla-watch" if audience == "routing" else "routing"
        try:
            self.identity.verifier(other).verify(token)
        except Unauthorized:
            return True
        raise AssertionError(f"the token sent to {audience} is accepted by {other}")

    async def page(self, path: str, **kw: Any) -> httpx.Response:
        return await self.http.get(path, **kw)

    async def csrf(self, path: str = "/signin") -> str:
        response = await self.http.get(path)
        found = CSRF_INPUT.search(response.text)
        if found is None:
            raise AssertionError(f"no CSRF field on {path}: {response.status_code}")
        return found.group(1)

    async def sign_in(self, token: str) -> httpx.Response:
        try:
            self.user = self.identity.verifier("console").verify(token)
        except Unauthorized:
            self.user = None
        csrf = await self.csrf("/signin")
        return await self.http.post(
            "/signin/token", data={"token": token, "csrf_token": csrf, "next": "/"}
        )

    async def sign_in_as(self, who: dict[str, Any]) -> None:
        response = await self.sign_in(token_for(self.identity, **who))
        assert response.status_code == 303, response.text

    async def post(self, path: str, data: dict[str, str], *, from_page: str) -> httpx.Response:
        """Submit a form of ``from_page`` (with the CSRF token that page carries)."""
        csrf = await self.csrf(from_page)
        return await self.http.post(path, data={**data, "csrf_token": csrf})


NewBrowser = Callable[..., Awaitable[Browser]]
NewDeps = Callable[..., Awaitable[Dependencies]]
