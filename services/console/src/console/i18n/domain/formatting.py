"""Durations, dates and times as a reader of each language expects them.

Durations count down to a deadline ("剩余 1小时20分" / "1 h 20 min left"); dates and
times are shown in the reader's time zone, in the language's own order (zh-CN: year, month,
day; en: day, month, year), with a 24-hour clock in both.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Final

from console.i18n.domain.language import Language

MINUTE: Final = 60
HOUR: Final = 3600
DAY: Final = 86_400
_MONTHS_EN: Final = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)  # fmt: skip


def duration_text(seconds: int, language: Language) -> str:
    """A duration in at most two units, the larger first: days and hours, or hours and
    minutes, or minutes (a zero second unit is left out); under a minute is "< 1 min"."""
    seconds = abs(seconds)
    days, rest = divmod(seconds, DAY)
    hours, rest = divmod(rest, HOUR)
    minutes = rest // MINUTE
    zh = language == "zh-CN"
    if days:
        parts = [(days, "天" if zh else "d"), (hours, "小时" if zh else "h")]
    elif hours:
        parts = [(hours, "小时" if zh else "h"), (minutes, "分" if zh else "min")]
    elif minutes:
        parts = [(minutes, "分" if zh else "min")]
    else:
        return "不到1分" if zh else "< 1 min"
    shown = [(value, unit) for value, unit in parts if value] or parts[:1]
    if zh:
        return "".join(f"{value}{unit}" for value, unit in shown)
    return " ".join(f"{value} {unit}" for value, unit in shown)


def time_left_text(seconds: int, language: Language) -> str:
    """Time until a deadline: "剩余 1小时20分" / "1 h 20 min left", and once it passed
    "超时 35分" / "35 min overdue"."""
    duration = duration_text(seconds, language)
    if seconds >= 0:
        return f"剩余 {duration}" if language == "zh-CN" else f"{duration} left"
    return f"超时 {duration}" if language == "zh-CN" else f"{duration} overdue"


def date_time_text(moment: datetime, zone: tzinfo, language: Language) -> str:
    """The full date and time in ``zone``: "2026年11月28日 14:05" / "28 Nov 2026, 14:05"."""
    local = moment.astimezone(zone)
    clock = f"{local.hour:02d}:{local.minute:02d}"
    if language == "zh-CN":
        return f"{local.year}年{local.month}月{local.day}日 {clock}"
    return f"{local.day} {_MONTHS_EN[local.month - 1]} {local.year}, {clock}"


def short_date_time_text(moment: datetime, now: datetime, zone: tzinfo, language: Language) -> str:
    """For lists: only the time today, the day and time this year, else the full form."""
    local, today = moment.astimezone(zone), now.astimezone(zone)
    clock = f"{local.hour:02d}:{local.minute:02d}"
    if local.date() == today.date():
        return clock
    if local.year != today.year:
        return date_time_text(moment, zone, language)
    if language == "zh-CN":
        return f"{local.month}月{local.day}日 {clock}"
    return f"{local.day} {_MONTHS_EN[local.month - 1]} {clock}"


def ago_text(moment: datetime, now: datetime, language: Language) -> str:
    """How long ago: "5分钟前" / "5 min ago" (the largest whole unit)."""
    seconds = int((now - moment).total_seconds())
    zh = language == "zh-CN"
    if seconds < MINUTE:
        return "刚刚" if zh else "just now"
    for size, zh_unit, en_unit in ((DAY, "天前", "d ago"), (HOUR, "小时前", "h ago")):
        if seconds >= size:
            return f"{seconds // size}{zh_unit}" if zh else f"{seconds // size} {en_unit}"
    minutes = seconds // MINUTE
    return f"{minutes}分钟前" if zh else f"{minutes} min ago"
