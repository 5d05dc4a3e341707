"""The acknowledgement's promised times: when to wait for them, and how they read.

Sla-watch arms a complaint's clocks about a second after it is received (routing triages
it, sla-watch matches a policy), while notify plans the acknowledgement as soon as it sees
``complaint.received``. So the first attempt usually finds no due time yet, and the
acknowledgement waits for it with quick retries (a quarter of a second at first, slower
as the complaint ages, at most :data:`MAX_RETRY_S`) for up to ``ACK_WAIT_FOR_DUE_S``
after receipt. After that, or when no clock will come (a duplicate shares its original's,
a closed complaint gets none), it goes out without times: "as soon as possible".

A deadline is stated only while it is ahead: an acknowledgement sent late (notify was
down for hours) does not promise a time already past. Times read as a customer expects
them in their zone: ``12月7日 14:30`` / ``7 Dec 14:30``, to the minute (a deadline at
14:30:40 reads 14:30: the promise is never later than the clock).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MIN_RETRY_S: Final = 0.25
MAX_RETRY_S: Final = 2.0
_EN_MONTHS: Final = (
    *("Jan", "Feb", "Mar", "Apr", "May", "Jun"),
    *("Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
)


def retry_delay_s(age_s: float) -> float:
    """How long to wait before looking again, for a complaint ``age_s`` old: a quarter of
    its age, between :data:`MIN_RETRY_S` and :data:`MAX_RETRY_S` (most clocks are armed
    within the first second; a slow one is not polled hard)."""
    return min(MAX_RETRY_S, max(MIN_RETRY_S, age_s / 4))


def wait_for_due_times(
    *,
    first_response_due_at: datetime | None,
    clocks_expected: bool,
    received_at: datetime | None,
    now: datetime,
    window_s: float,
) -> float | None:
    """Seconds to wait before rendering the acknowledgement again, or None to send it now:
    it waits only while the first-response due time is missing, intake still expects the
    clocks and the complaint is younger than ``window_s`` (unknown age: no wait). A wait is
    never shorter than :data:`MIN_RETRY_S`: less of the window left than that (or no
    window, ``ACK_WAIT_FOR_DUE_S=0``) sends now."""
    if first_response_due_at is not None or not clocks_expected or received_at is None:
        return None
    if window_s <= 0:
        return None
    age_s = max((now - received_at).total_seconds(), 0.0)  # a clock behind: just received
    left_s = window_s - age_s
    if left_s < MIN_RETRY_S:
        return None  # the window ends before a retry could look again: send now
    return min(retry_delay_s(age_s), left_s)


def stored_due_key(metric: str) -> str:
    """Where a delivery's context keeps a due time notify saw on the clock's own event."""
    return f"{metric}_due_at"


def stored_due(context: Mapping[str, object], metric: str) -> datetime | None:
    """The due time of ``metric`` kept in a delivery's context, if any (None when missing
    or unreadable: the caller then uses intake's)."""
    value = context.get(stored_due_key(metric))
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def ahead(due_at: datetime | None, *, now: datetime) -> datetime | None:
    """A deadline worth promising: one still ahead of ``now``."""
    return due_at if due_at is not None and due_at > now else None


def display_zone(name: str | None, *, fallback: str) -> tzinfo:
    """The zone intake named for the complaint, else notify's display zone."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo(fallback)


def format_due(moment: datetime, zone: tzinfo, language: str) -> str:
    """``12月7日 14:30`` (zh-CN) or ``7 Dec 14:30`` (en), in ``zone``, to the minute."""
    local = moment.astimezone(zone)
    if language == "en":
        return f"{local.day} {_EN_MONTHS[local.month - 1]} {local:%H:%M}"
    return f"{local.month}月{local.day}日 {local:%H:%M}"
