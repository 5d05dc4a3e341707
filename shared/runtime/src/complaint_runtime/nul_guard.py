"""NUL (U+0000) refused in every API request with a 422 problem naming the field, whatever
route: PostgreSQL cannot store it in text, and a NUL that reached a statement was a 500.

:func:`install_nul_guard` makes :func:`refuse_nul` a dependency of every route included
after it (``complaint_runtime.problems.install_problem_handlers`` installs it, and
``build_app`` calls that before any router, so no service can forget it). It looks at the
path and query parameters and at the body: JSON (where NUL can only be the escape
``\\u0000``, so a body without one is not parsed again) and any ``text/*`` body.

HTML forms are left to their pages: the customer pages answer a NUL in a form with the form
itself (the text kept without it, the field's message in the customer's language), which
helps more than any 422; the console stores no form text, it relays forms as JSON to
routing and sla-watch, whose guard refuses the NUL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Final

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError

NUL: Final = "\x00"
CODE: Final = "string_nul"
MESSAGE: Final = "must not contain NUL characters"
_BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def install_nul_guard(app: FastAPI) -> None:
    """Every route included into ``app`` from now on refuses NUL (see the module)."""
    app.router.dependencies.append(Depends(refuse_nul))


# A coroutine: FastAPI runs a plain function dependency in a worker thread.
async def refuse_nul(request: Request) -> None:
    """Raise a ``RequestValidationError`` (422) listing every place a NUL was found."""
    places: list[tuple[str | int, ...]] = [
        ("path", name)
        for name, value in request.path_params.items()
        if isinstance(value, str) and NUL in value
    ]
    places += [
        ("query", name)
        for name, value in request.query_params.multi_items()
        if NUL in name or NUL in value
    ]
    if request.method in _BODY_METHODS:
        places += await _in_body(request)
    if places:
        raise RequestValidationError(
            [{"type": CODE, "loc": place, "msg": MESSAGE, "input": None} for place in places]
        )


async def _in_body(request: Request) -> list[tuple[str | int, ...]]:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == "application/json" or media_type.endswith("+json"):
        body = await request.body()
        if b"\\u0000" not in body:
            return []
        try:
            document = json.loads(body)
        except ValueError:
            return []  # malformed: the route's own parsing answers 400
        return [("body", *path) for path in _nul_paths(document, ())]
    if media_type.startswith("text/") and b"\x00" in await request.body():
        return [("body",)]
    return []


def _nul_paths(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[str | int, ...]]:
    if isinstance(value, str):
        if NUL in value:
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            if NUL in key:
                yield (*path, key)
            else:
                yield from _nul_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_paths(item, (*path, index))
