"""Canned replies as the composer offers them (routing's ``GET /v1/canned-replies``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

MAX_SHOWN: Final = 50


@dataclass(frozen=True, slots=True)
class CannedReply:
    id: int
    title: str
    text: str


def canned_replies_of(answer: Any) -> tuple[CannedReply, ...]:
    if not isinstance(answer, list):
        return ()
    found = [
        CannedReply(id=r["id"], title=str(r.get("title", "")), text=str(r.get("text", "")))
        for r in answer
        if isinstance(r, dict) and isinstance(r.get("id"), int) and r.get("text")
    ]
    return tuple(found[:MAX_SHOWN])
