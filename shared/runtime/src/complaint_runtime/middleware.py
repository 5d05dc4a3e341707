"""ASGI middleware: bounded request bodies, request metrics, correlation ids."""

from __future__ import annotations

import json
import time
import uuid

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from complaint_runtime import metrics
from complaint_runtime.context import caused_by, originating
from complaint_runtime.problems import PROBLEM_JSON


class BodyLimitMiddleware:
    """413 problem+json for bodies over the limit, whether announced by Content-Length or
    streamed in chunks; nothing over the limit is ever buffered."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int):
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._reject(scope, send)
            return
        seen = 0
        rejected = False

        async def limited_receive() -> Message:
            nonlocal seen, rejected
            if rejected:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    # Answer now and tell the app the client left: frameworks turn
                    # exceptions raised while reading the body into their own 400s.
                    rejected = True
                    await self._reject(scope, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not rejected:
                await send(message)

        await self.app(scope, limited_receive, guarded_send)

    async def _reject(self, scope: Scope, send: Send) -> None:
        body = json.dumps(
            {
                "type": "https://docs.opencomplaints.org/problems/body-too-large",
                "title": "Request body too large",
                "status": 413,
                "detail": f"The body exceeds {self.max_body_bytes} bytes.",
                "instance": scope.get("path", ""),
                "max_body_bytes": self.max_body_bytes,
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class RequestContextMiddleware:
    """Correlation id per request (X-Correlation-ID in and out), metrics by route template."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        incoming = headers.get(b"x-correlation-id", b"").decode("latin-1")[:100]
        correlation_id = incoming or str(uuid.uuid4())
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-correlation-id", correlation_id.encode()),
                ]
            await send(message)

        started_response = False

        async def tracked_send(message: Message) -> None:
            nonlocal started_response
            started_response = started_response or message["type"] == "http.response.start"
            await send_with_id(message)

        client = scope.get("client")
        origin = f"http {client[0]}" if client else "http"
        with caused_by(correlation_id=correlation_id, causation_id=None), originating(origin):
            try:
                await self.app(scope, receive, tracked_send)
            except Exception:
                # Answer here rather than in Starlette's outermost error middleware, so the
                # 500 still carries the correlation id the caller can quote.
                if started_response:
                    raise
                structlog.get_logger(__name__).exception("unhandled error", path=scope["path"])
                await _internal_error(scope, send_with_id)
            finally:
                route = _route_template(scope)
                metrics.HTTP_REQUESTS.labels(scope["method"], route, str(status)).inc()
                metrics.HTTP_LATENCY.labels(scope["method"], route).observe(
                    time.perf_counter() - started
                )
                structlog.contextvars.unbind_contextvars("complaint_id")


async def _internal_error(scope: Scope, send: Send) -> None:
    body = json.dumps(
        {
            "type": "https://docs.opencomplaints.org/problems/internal",
            "title": "Internal error",
            "status": 500,
            "detail": "An unexpected error occurred.",
            "instance": scope.get("path", ""),
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"
