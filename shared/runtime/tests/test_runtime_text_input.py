"""Text in requests: NUL refused everywhere with a 422 naming the field (the runtime's guard,
installed with the problem handlers, so every route of every service has it), and the
validators request models use for one-line and multi-line fields."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from complaint_runtime.problems import PROBLEM_JSON, install_problem_handlers
from complaint_runtime.text import MultiLine, SingleLine, multi_line, single_line
from fastapi import FastAPI, Form, Request
from pydantic import BaseModel, Field


class Contact(BaseModel):
    name: Annotated[str, SingleLine]
    note: Annotated[str, MultiLine] = ""
    tags: list[str] = Field(default_factory=list)
    extra: dict[str, str] = Field(default_factory=dict)


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/json/{item}")
    async def take_json(item: str, body: Contact, q: str = "") -> dict[str, Any]:
        return {"name": body.name, "note": body.note}

    @app.post("/form")
    async def take_form(text: Annotated[str, Form()]) -> dict[str, str]:
        return {"text": text}

    @app.post("/raw")
    async def take_raw(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


def _refused(response: httpx.Response) -> list[tuple[str, str]]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    return [(e["in"], e["pointer"]) for e in response.json()["errors"] if e["code"] == "string_nul"]


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"name": "Zhang\x00"}, "/name"),
        ({"name": "Zhang", "note": "a\x00b"}, "/note"),
        ({"name": "Zhang", "tags": ["ok", "b\x00d"]}, "/tags/1"),
        ({"name": "Zhang", "extra": {"k": "\x00"}}, "/extra/k"),
        ({"name": "Zhang", "extra": {"k\x00": "v"}}, "/extra/k\x00"),
    ],
)
async def test_nul_anywhere_in_a_json_body_is_a_422_naming_it(
    client: httpx.AsyncClient, body: dict[str, Any], pointer: str
) -> None:
    assert _refused(await client.post("/json/x", json=body)) == [("body", pointer)]


async def test_nul_in_the_query_and_the_path_is_a_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/json/a%00b?q=x%00y", json={"name": "Zhang"})
    assert _refused(response) == [("path", "/item"), ("query", "/q")]


async def test_a_form_is_left_to_its_page(client: httpx.AsyncClient) -> None:
    """The customer pages answer a NUL in a form with the form and the field's message."""
    response = await client.post("/form", data={"text": "a\x00b"})
    assert response.json() == {"text": "a\x00b"}


async def test_nul_in_a_text_body_is_a_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/raw", content=b"BEGIN:VCALENDAR\x00", headers={"content-type": "text/calendar"}
    )
    assert _refused(response) == [("body", "/")]


async def test_text_without_nul_passes(client: httpx.AsyncClient) -> None:
    # An escaped backslash before "u0000" is not a NUL.
    response = await client.post(
        "/json/x",
        content=b'{"name": "Zhang \\\\u0000", "note": "line 1\\r\\nline 2\\tend"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"name": "Zhang \\u0000", "note": "line 1\r\nline 2\tend"}
    assert (await client.post("/form", data={"text": "a b"})).json() == {"text": "a b"}


async def test_a_malformed_body_is_still_a_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/json/x", content=b'{"name": "\\u0000', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400


async def test_a_line_break_in_a_single_line_field_is_a_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/json/x", json={"name": "Zhang\r\nBcc: x@example.com"})
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == ["/name"]


@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "a\x00b", "a\x1bb", "a\x85b", "a\u2028b", "\x7f"])
def test_single_line_refuses_line_breaks_and_controls(bad: str) -> None:
    with pytest.raises(ValueError, match="single line"):
        single_line(bad)


@pytest.mark.parametrize("good", ["张伟", "O'Brien-Smith", "a\tb", "Café №5", ""])
def test_single_line_keeps_ordinary_text(good: str) -> None:
    assert single_line(good) == good


def test_multi_line_keeps_line_breaks_and_tabs_only() -> None:
    assert multi_line("line 1\r\nline 2\n\tend") == "line 1\r\nline 2\n\tend"
    for bad in ("a\x00b", "a\x1bb", "a\x0bb", "\x7f"):
        with pytest.raises(ValueError, match="control characters"):
            multi_line(bad)
