"""One case of a list, as routing's ``GET /v1/cases`` gives it, ready for a row of the
queue: reference, subject, channel, tier, priority, SLA badge, status, last activity."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from console.cases.domain.sla_badge import SlaBadge, sla_badge


def parse_time(value: object) -> datetime | None:
    """An RFC 3339 time of routing's answers (None when absent or not a time)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True, slots=True)
class CaseRow:
    complaint_id: str
    reference: str
    subject: str | None
    channel: str | None
    tier: str | None
    priority: str | None
    status: str | None
    category: str | None
    team: str | None
    assignee: str | None
    escalation_level: int
    version: int | None  # the case's version (If-Match of a command from the row)
    sla: SlaBadge
    sla_due_at: datetime | None
    last_activity_at: datetime | None

    @staticmethod
    def of(item: Mapping[str, Any]) -> CaseRow:
        seconds_left = _int(item.get("sla_time_left_s"))
        return CaseRow(
            complaint_id=str(item.get("complaint_id", "")),
            reference=str(item.get("reference", "")),
            subject=_text(item.get("subject")),
            channel=_text(item.get("channel")),
            tier=_text(item.get("tier")),
            priority=_text(item.get("priority")),
            status=_text(item.get("status")),
            category=_text(item.get("category")),
            team=_text(item.get("team")),
            assignee=_text(item.get("assignee")),
            escalation_level=_int(item.get("escalation_level")) or 0,
            version=_int(item.get("version")),
            sla=sla_badge(
                state=_text(item.get("sla_state")),
                warned_percent=_int(item.get("sla_warned_percent")),
                seconds_left=seconds_left,
            ),
            sla_due_at=parse_time(item.get("sla_due_at")),
            last_activity_at=parse_time(item.get("last_activity_at")),
        )


@dataclass(frozen=True, slots=True)
class CasePage:
    rows: tuple[CaseRow, ...]
    next_cursor: str | None

    @staticmethod
    def of(answer: Mapping[str, Any]) -> CasePage:
        items = answer.get("items")
        rows = (
            tuple(CaseRow.of(i) for i in items if isinstance(i, Mapping))
            if isinstance(items, list)
            else ()
        )
        cursor = answer.get("next")
        return CasePage(
            rows=rows, next_cursor=cursor if isinstance(cursor, str) and cursor else None
        )


@dataclass(frozen=True, slots=True)
class WaitingCase:
    """A case in a team's waiting queue (no agent free for it yet)."""

    complaint_id: str
    reference: str
    priority: str | None
    category: str | None
    tier: str | None
    needs_senior: bool
    queued_at: datetime | None
    waiting_s: int

    @staticmethod
    def of(item: Mapping[str, Any]) -> WaitingCase:
        return WaitingCase(
            complaint_id=str(item.get("complaint_id", "")),
            reference=str(item.get("reference", "")),
            priority=_text(item.get("priority")),
            category=_text(item.get("category")),
            tier=_text(item.get("tier")),
            needs_senior=bool(item.get("needs_senior")),
            queued_at=parse_time(item.get("queued_at")),
            waiting_s=_int(item.get("waiting_s")) or 0,
        )


def waiting_cases(answer: Mapping[str, Any]) -> tuple[WaitingCase, ...]:
    cases = answer.get("cases")
    if not isinstance(cases, list):
        return ()
    return tuple(WaitingCase.of(c) for c in cases if isinstance(c, Mapping))
