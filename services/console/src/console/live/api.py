"""``GET /live/stream``: the server-sent events of the changes the signed-in user may see
(``case-changed``, data ``{"complaint_id", "type"}``, id = the change's id), for the
queues and the board (htmx's SSE extension) or, with ``?case=<id>``, for one case page.

A stream starts at the latest change (or after ``Last-Event-ID`` when the browser
reconnects), sends a comment every ``CONSOLE_LIVE_HEARTBEAT_S`` so proxies keep it open,
and ends after ``CONSOLE_LIVE_STREAM_MAX_S`` or when the session does; the browser then
reconnects and the session is checked again.

``POST /cases/{id}/presence``: the case page's composer says its user is typing (htmx, at
most every 3 s while they type); ``GET /cases/{id}/presence``: who else is writing on the
case, a fragment the page polls every ``CONSOLE_PRESENCE_POLL_S``. Polled rather than
streamed: presence is no event of the platform (nothing reaches the read model's change
log), and a few-second poll of one indexed row set is simpler than a second kind of SSE
message, works across replicas (the rows are in the console's database) and needs nothing
from the stream's cursor."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated, Final

from complaint_runtime.errors import NotFound
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse, Response
from sse_starlette import EventSourceResponse, ServerSentEvent

from console.bootstrap import DependenciesDep
from console.live import service
from console.live.domain.presence import Activity
from console.live.domain.visibility import Viewer
from console.web.session import Caller, CallerDep, render

router = APIRouter(tags=["live"])

EVENT: Final = "case-changed"
RETRY_MS: Final = 2000
_ID: Final = re.compile(r"^\d{1,18}$")
_COMPLAINT: Final = re.compile(r"^[0-9a-fA-F-]{36}$")


def _viewer(me: Caller) -> Viewer:
    return Viewer(subject=me.user.subject, roles=me.user.roles, team=me.user.team)


def _case_id(complaint_id: str) -> str:
    if not _COMPLAINT.fullmatch(complaint_id):
        raise NotFound("No such case.")
    return complaint_id.lower()


@router.get("/live/stream", summary="Server-sent events: changes of the cases you see")
async def stream(
    deps: DependenciesDep,
    me: CallerDep,
    case: Annotated[str | None, Query(max_length=36)] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
) -> EventSourceResponse:
    settings = deps.settings
    complaint_id = case.lower() if case and _COMPLAINT.fullmatch(case) else None
    if last_event_id and _ID.fullmatch(last_event_id):
        cursor = int(last_event_id)
    else:
        cursor = await service.latest_change_id(database=deps.database)
    viewer = _viewer(me)
    now = deps.clock()
    until = min(
        now + timedelta(seconds=settings.console_live_stream_max_s),
        now + timedelta(seconds=max(me.user.expires_at - now.timestamp(), 0)),
    )

    async def events() -> AsyncIterator[ServerSentEvent]:
        yield ServerSentEvent(comment="connected", retry=RETRY_MS)
        async for change_id, change in service.follow_changes(
            database=deps.database,
            viewer=viewer,
            position=service.StreamPosition(cursor=cursor),
            clock=deps.clock,
            sleep=asyncio.sleep,
            poll_s=settings.console_live_poll_s,
            until=until,
            complaint_id=complaint_id,
        ):
            data = {"complaint_id": change.complaint_id, "type": change.event_type}
            yield ServerSentEvent(data=json.dumps(data), event=EVENT, id=str(change_id))

    return EventSourceResponse(
        events(),
        ping=settings.console_live_heartbeat_s,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.post(
    "/cases/{complaint_id}/presence",
    status_code=204,
    summary="I am writing on this case (the composer, while its user types)",
)
async def writing(
    complaint_id: str,
    deps: DependenciesDep,
    me: CallerDep,
    activity: Annotated[Activity, Query()] = "reply",
) -> Response:
    await service.note_writing(
        database=deps.database,
        viewer=_viewer(me),
        complaint_id=_case_id(complaint_id),
        activity=activity,
        now=deps.clock(),
        ttl_s=deps.settings.console_presence_ttl_s,
    )
    return Response(status_code=204, headers={"Cache-Control": "no-store"})


@router.get(
    "/cases/{complaint_id}/presence",
    response_class=HTMLResponse,
    summary="Who else is writing on this case (a fragment, polled)",
)
async def presence(
    request: Request, complaint_id: str, deps: DependenciesDep, me: CallerDep
) -> HTMLResponse:
    found = await service.writers(
        database=deps.database,
        viewer=_viewer(me),
        complaint_id=_case_id(complaint_id),
        now=deps.clock(),
    )
    return render(request, deps, "partials/presence.html", {"writers": found}, user=me.user)
