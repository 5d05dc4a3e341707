"""Times as a customer reads them: in their own time zone (the complaint's, else the
organisation's), in the words of their language. A deadline shown in UTC, or in the
server's zone, would be wrong by hours for the very customer it is promised to."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from functools import cache
from typing import Final
from zoneinfo import ZoneInfo, available_timezones

from complaint_customer_web.language import Language

DEFAULT_ZONE: Final = "Asia/Shanghai"
MAX_ZONE_NAME: Final = 64
_EN_MONTHS: Final = (
    *("Jan", "Feb", "Mar", "Apr", "May", "Jun"),
    *("Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
)
_EN_DAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_ZH_DAYS: Final = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


@cache
def _zone_names() -> frozenset[str]:
    """The IANA zones this machine knows (the system's database or the tzdata package),
    read once: a name is checked against this list, never opened as a path."""
    return frozenset(available_timezones())


def is_zone_name(name: str) -> bool:
    """Whether ``name`` is an IANA time zone this machine knows (``Asia/Shanghai``)."""
    return 0 < len(name) <= MAX_ZONE_NAME and name in _zone_names()


def zone_of(name: str | None, *, fallback: str = DEFAULT_ZONE) -> ZoneInfo:
    """The zone named ``name`` when it is one, else ``fallback`` (itself checked at start)."""
    if name and is_zone_name(name):
        return ZoneInfo(name)
    return ZoneInfo(fallback)


def format_time(moment: datetime, zone: tzinfo, language: Language) -> str:
    """``2026年12月14日 周一 09:30`` / ``Mon 14 Dec 2026, 09:30``: the day spelled out,
    so that a customer reading on another day cannot mistake it."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the database's times are UTC
    local = moment.astimezone(zone)
    if language == "zh-CN":
        day = _ZH_DAYS[local.weekday()]
        return f"{local.year}年{local.month}月{local.day}日 {day} {local:%H:%M}"
    day_name = _EN_DAYS[local.weekday()]
    return f"{day_name} {local.day} {_EN_MONTHS[local.month - 1]} {local.year}, {local:%H:%M}"


def format_date(moment: datetime, zone: tzinfo, language: Language) -> str:
    """The day alone, for a window's end ("until 13 January 2027")."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(zone)
    if language == "zh-CN":
        return f"{local.year}年{local.month}月{local.day}日"
    return f"{local.day} {_EN_MONTHS[local.month - 1]} {local.year}"


def zone_label(zone: ZoneInfo, moment: datetime) -> str:
    """The zone as a reader recognises it: its name and its offset at ``moment``
    (``Asia/Shanghai, UTC+08:00``)."""
    offset = moment.astimezone(zone).utcoffset()
    total = int(offset.total_seconds()) if offset is not None else 0
    sign = "+" if total >= 0 else "-"
    hours, minutes = divmod(abs(total) // 60, 60)
    return f"{zone.key}, UTC{sign}{hours:02d}:{minutes:02d}"
