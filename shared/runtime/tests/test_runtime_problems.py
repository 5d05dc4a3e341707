"""Problem details and the HTTP middleware: every error is application/problem+json."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from complaint_runtime.context import current_causation
from complaint_runtime.errors import Unavailable
from complaint_runtime.middleware import BodyLimitMiddleware, RequestContextMiddleware
from complaint_runtime.problems import (
    PROBLEM_JSON,
    TYPE_BASE,
    DependencyUnavailable,
    Problem,
    install_problem_handlers,
)
from fastapi import FastAPI, Request
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, OperationalError

LIMIT = 1000
RETRY_AFTER = 7


class Inner(BaseModel):
    label: str


class Item(BaseModel):
    name: str = Field(min_length=1)
    count: int
    inner: Inner
    labels: dict[str, int] = Field(default_factory=dict)


class PgError(Exception):
    """Stands in for a driver error carrying a PostgreSQL SQLSTATE."""

    def __init__(self, sqlstate: str):
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app, retry_after_s=RETRY_AFTER)

    @app.get("/problem")
    async def problem() -> None:
        raise Problem(
            409,
            "Complaint already closed",
            "It was closed yesterday.",
            kind="already-closed",
            headers={"X-Extra": "yes"},
            closed_at="2026-11-23",
        )

    @app.post("/items")
    async def create_item(item: Item) -> dict[str, object]:
        return item.model_dump()

    @app.get("/search")
    async def search(limit: int) -> dict[str, int]:
        return {"limit": limit}

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"length": len(await request.body())}

    @app.get("/operational")
    async def operational() -> None:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    @app.get("/db-shutdown")
    async def db_shutdown() -> None:
        raise DBAPIError("SELECT 1", {}, PgError("57P01"))

    @app.get("/db-bad-statement")
    async def db_bad_statement() -> None:
        raise DBAPIError("INSERT ...", {}, PgError("22021"))

    @app.get("/unavailable")
    async def unavailable() -> None:
        raise DependencyUnavailable("kafka is down")

    @app.get("/peer-down")
    async def peer_down() -> None:
        raise Unavailable("intake unreachable; retry later.")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("SECRET-INTERNAL-DETAIL")

    @app.get("/correlation")
    async def correlation() -> dict[str, str]:
        return {"correlation_id": current_causation().correlation_id}

    app.add_middleware(BodyLimitMiddleware, max_body_bytes=LIMIT)
    app.add_middleware(RequestContextMiddleware)
    return app


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return _app()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    # Handlers of Exception run in Starlette's outermost middleware, which re-raises after
    # answering; the client must see the answer, not the re-raised exception.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


def _assert_problem(response: httpx.Response, status: int, path: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["type"], str)
    assert body["type"]
    assert body["instance"] == path
    return body


async def test_problem_raised_by_a_route(client: httpx.AsyncClient) -> None:
    response = await client.get("/problem")
    body = _assert_problem(response, 409, "/problem")
    assert body["title"] == "Complaint already closed"
    assert body["detail"] == "It was closed yesterday."
    assert body["type"] == f"{TYPE_BASE}/already-closed"
    assert body["closed_at"] == "2026-11-23"
    assert response.headers["x-extra"] == "yes"


async def test_unknown_route_is_a_problem(client: httpx.AsyncClient) -> None:
    body = _assert_problem(await client.get("/nowhere"), 404, "/nowhere")
    assert body["title"] == "Not Found"


async def test_wrong_method_is_a_problem(client: httpx.AsyncClient) -> None:
    body = _assert_problem(await client.delete("/problem"), 405, "/problem")
    assert body["title"] == "Method Not Allowed"


async def test_valid_body_passes(client: httpx.AsyncClient) -> None:
    item = {"name": "a", "count": 2, "inner": {"label": "x"}, "labels": {"k": 1}}
    response = await client.post("/items", json=item)
    assert response.status_code == 200
    assert response.json() == item


async def test_validation_errors_name_each_field(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/items", json={"name": "", "count": "many", "inner": {}, "labels": {"a/b~c": "x"}}
    )
    body = _assert_problem(response, 422, "/items")
    assert body["type"] == f"{TYPE_BASE}/validation"
    by_field = {e["field"]: e for e in body["errors"]}
    assert set(by_field) == {"name", "count", "inner.label", "labels.a/b~c"}
    assert by_field["name"]["pointer"] == "/name"
    assert by_field["count"]["pointer"] == "/count"
    assert by_field["inner.label"]["pointer"] == "/inner/label"
    # RFC 6901: "~" is written "~0" and "/" is written "~1".
    assert by_field["labels.a/b~c"]["pointer"] == "/labels/a~1b~0c"
    assert all(e["in"] == "body" for e in body["errors"])
    assert by_field["inner.label"]["code"] == "missing"
    assert "4 field(s)" in body["detail"]


async def test_query_validation_error(client: httpx.AsyncClient) -> None:
    body = _assert_problem(await client.get("/search", params={"limit": "ten"}), 422, "/search")
    [error] = body["errors"]
    assert error["in"] == "query"
    assert error["field"] == "limit"


async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/items", content=b'{"name": "a", ', headers={"content-type": "application/json"}
    )
    body = _assert_problem(response, 400, "/items")
    assert body["type"] == f"{TYPE_BASE}/malformed-body"


async def test_invalid_utf8_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/items",
        content=b'{"name": "\xff\xfe", "count": 1, "inner": {"label": "x"}}',
        headers={"content-type": "application/json"},
    )
    _assert_problem(response, 400, "/items")


async def test_operational_error_is_503_with_retry_after(client: httpx.AsyncClient) -> None:
    response = await client.get("/operational")
    body = _assert_problem(response, 503, "/operational")
    assert response.headers["retry-after"] == str(RETRY_AFTER)
    assert body["type"] == f"{TYPE_BASE}/unavailable"
    assert "connection refused" not in response.text


async def test_server_shutdown_sqlstate_is_503(client: httpx.AsyncClient) -> None:
    response = await client.get("/db-shutdown")
    _assert_problem(response, 503, "/db-shutdown")
    assert response.headers["retry-after"] == str(RETRY_AFTER)


async def test_bad_statement_sqlstate_is_500_not_503(client: httpx.AsyncClient) -> None:
    response = await client.get("/db-bad-statement")
    body = _assert_problem(response, 500, "/db-bad-statement")
    assert "retry-after" not in response.headers
    assert body["type"] == f"{TYPE_BASE}/internal"
    assert "INSERT" not in response.text


async def test_dependency_unavailable_is_503(client: httpx.AsyncClient) -> None:
    response = await client.get("/unavailable")
    _assert_problem(response, 503, "/unavailable")
    assert response.headers["retry-after"] == str(RETRY_AFTER)


async def test_an_unavailable_peer_is_a_503_domain_error_with_retry_after(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/peer-down")
    body = _assert_problem(response, 503, "/peer-down")
    assert response.headers["retry-after"] == str(RETRY_AFTER)
    assert body["type"] == f"{TYPE_BASE}/unavailable"
    assert body["detail"] == "intake unreachable; retry later."


async def test_unexpected_error_is_500_without_traceback(client: httpx.AsyncClient) -> None:
    response = await client.get("/boom")
    body = _assert_problem(response, 500, "/boom")
    assert body["type"] == f"{TYPE_BASE}/internal"
    assert "SECRET-INTERNAL-DETAIL" not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" not in response.text


@pytest.mark.parametrize("size", [LIMIT - 1, LIMIT])
async def test_body_at_the_limit_is_accepted(client: httpx.AsyncClient, size: int) -> None:
    response = await client.post("/raw", content=b"x" * size)
    assert response.status_code == 200
    assert response.json() == {"length": size}


async def test_declared_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/raw", content=b"x" * (LIMIT + 1))
    body = _assert_problem(response, 413, "/raw")
    assert body["max_body_bytes"] == LIMIT


async def _chunks(total: int, chunk: int = 300) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        size = min(chunk, total - sent)
        sent += size
        yield b"x" * size


async def test_streamed_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/raw", content=_chunks(LIMIT + 1))
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    _assert_problem(response, 413, "/raw")


async def test_streamed_body_under_the_limit_passes(client: httpx.AsyncClient) -> None:
    response = await client.post("/raw", content=_chunks(LIMIT))
    assert response.status_code == 200
    assert response.json() == {"length": LIMIT}


async def test_streamed_json_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/items", content=_chunks(5 * LIMIT), headers={"content-type": "application/json"}
    )
    _assert_problem(response, 413, "/items")


async def test_given_correlation_id_is_echoed_and_bound(client: httpx.AsyncClient) -> None:
    response = await client.get("/correlation", headers={"X-Correlation-ID": "corr-42"})
    assert response.headers["x-correlation-id"] == "corr-42"
    assert response.json() == {"correlation_id": "corr-42"}


async def test_correlation_id_is_generated_when_missing(client: httpx.AsyncClient) -> None:
    first = await client.get("/correlation")
    second = await client.get("/correlation")
    generated = first.headers["x-correlation-id"]
    assert str(uuid.UUID(generated)) == generated
    assert first.json() == {"correlation_id": generated}
    assert second.headers["x-correlation-id"] != generated


@pytest.mark.parametrize(
    ("method", "path", "content"),
    [
        ("GET", "/problem", None),
        ("POST", "/items", b"{}"),
        ("GET", "/operational", None),
        ("GET", "/boom", None),
        ("POST", "/raw", b"x" * (LIMIT + 1)),
    ],
)
async def test_problems_carry_the_correlation_id(
    client: httpx.AsyncClient, method: str, path: str, content: bytes | None
) -> None:
    response = await client.request(
        method, path, content=content, headers={"X-Correlation-ID": "corr-problem"}
    )
    assert response.status_code >= 400
    assert response.headers["x-correlation-id"] == "corr-problem"
