"""Unsubscribe links: ``GET /v1/unsubscribe?token=`` shows a confirmation page with a
form, ``POST /v1/unsubscribe?token=`` unsubscribes (RFC 8058 one-click: the mail client
posts ``List-Unsubscribe=One-Click``; the page's form posts the same).

Public: the signed token (naming the delivery the link came with) is the credential. A GET
never unsubscribes, so a mail scanner that follows links changes nothing. An unknown,
altered or erased link answers 404 with a short page. The recipient then gets no more
non-transactional messages (the NPS invitation) on that channel; notices about their own
open complaint still go.
"""

from __future__ import annotations

import html
from typing import Annotated
from urllib.parse import quote

from complaint_runtime.errors import NotFound
from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from notify.bootstrap import DependenciesDep
from notify.replies.api import replies_of
from notify.suppressions import service

router = APIRouter(prefix="/v1/unsubscribe", tags=["unsubscribe"])

TokenQuery = Annotated[str, Query(max_length=100, description="The link's signed token")]
_INVALID = (
    "此退订链接无效或已失效。This unsubscribe link is not valid (any more).",
    404,
)


def _page(body: str, *, status: int = 200) -> HTMLResponse:
    document = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>退订 / Unsubscribe</title></head>"
        f'<body style="font-family: sans-serif; max-width: 36rem; margin: 2rem auto">{body}'
        "</body></html>"
    )
    return HTMLResponse(
        document,
        status_code=status,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


@router.get(
    "",
    response_class=HTMLResponse,
    summary="The unsubscribe page of a link (a confirmation form; nothing changes yet)",
)
async def unsubscribe_page(token: TokenQuery, deps: DependenciesDep) -> HTMLResponse:
    delivery_id = replies_of(deps).addressing.unsubscribed_delivery(token)
    if delivery_id is None or not await service.names_recipient(
        database=deps.database, delivery_id=delivery_id
    ):
        return _page(f"<p>{html.escape(_INVALID[0])}</p>", status=_INVALID[1])
    action = html.escape(f"?token={quote(token)}", quote=True)
    return _page(
        "<h1>退订 / Unsubscribe</h1>"
        "<p>不再接收满意度调查等非事务性消息。有关您未结投诉的通知仍会发送。</p>"
        "<p>Stop receiving surveys and other non-transactional messages. Notices about your "
        "open complaint will still be sent.</p>"
        f'<form method="post" action="{action}">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit">退订 / Unsubscribe</button></form>'
    )


@router.post(
    "",
    response_class=HTMLResponse,
    summary="Unsubscribe (RFC 8058 one-click, or the page's form)",
    responses={404: {"description": "The link is unknown, altered or its recipient erased"}},
)
async def unsubscribe(token: TokenQuery, deps: DependenciesDep) -> HTMLResponse:
    delivery_id = replies_of(deps).addressing.unsubscribed_delivery(token)
    if delivery_id is None:
        return _page(f"<p>{html.escape(_INVALID[0])}</p>", status=_INVALID[1])
    try:
        await service.unsubscribe(database=deps.database, delivery_id=delivery_id, now=deps.clock())
    except NotFound:
        return _page(f"<p>{html.escape(_INVALID[0])}</p>", status=_INVALID[1])
    return _page("<p>您已退订。You are unsubscribed.</p>")
