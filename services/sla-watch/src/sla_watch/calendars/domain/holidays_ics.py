"""Import holidays (and make-up working days) from an iCalendar (.ics) file.

Parsing uses the ``icalendar`` library (RFC 5545). Every ``VEVENT`` covers the local dates
from its ``DTSTART`` up to its ``DTEND`` (exclusive for all-day events, as RFC 5545 says;
a timed event covers each date it touches) or ``DTSTART`` + ``DURATION``, one day when it
has neither. Chinese holiday feeds mark make-up working days (调休上班) in the summary, e.g.
"国庆节 补班" or "上班": an event whose summary contains one of ``workday_markers`` gives
make-up working days, every other one holidays. Cancelled events are ignored; recurring
events (``RRULE``/``RDATE``) are not expanded but listed in :attr:`IcsHolidays.skipped`, so
an admin sees what was left out (official holiday feeds list each year's dates).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

DEFAULT_WORKDAY_MARKERS: tuple[str, ...] = ("补班", "上班", "调休上班", "(班)", "（班）")


@dataclass
class IcsHolidays:
    """Dates found in an .ics file: date → summary."""

    holidays: dict[date, str] = field(default_factory=dict)
    makeup_workdays: dict[date, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def holidays_from_ics(
    data: bytes | str,
    *,
    workday_markers: tuple[str, ...] = DEFAULT_WORKDAY_MARKERS,
    years: range | None = None,
) -> IcsHolidays:
    """Holidays and make-up working days of an iCalendar file (optionally only ``years``).

    A date that is both (two events disagree) is refused with ``ValueError``."""
    try:
        import icalendar
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError("importing .ics files needs the 'icalendar' package") from exc

    calendar = icalendar.Calendar.from_ical(data)
    found = IcsHolidays()
    for event in calendar.walk("VEVENT"):
        summary = str(event.get("SUMMARY", "")).strip()
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        if event.get("RRULE") is not None or event.get("RDATE") is not None:
            found.skipped.append(f"recurring event not expanded: {summary or event.get('UID')}")
            continue
        if event.get("DTSTART") is None:
            found.skipped.append(f"event without DTSTART: {summary or event.get('UID')}")
            continue
        is_workday = any(marker in summary for marker in workday_markers)
        target = found.makeup_workdays if is_workday else found.holidays
        for day in _event_dates(event):
            if years is None or day.year in years:
                target.setdefault(day, summary)
    both = found.holidays.keys() & found.makeup_workdays.keys()
    if both:
        raise ValueError(f"dates both holiday and make-up working day: {sorted(both)}")
    return found


def _event_dates(event: Any) -> list[date]:
    start = event.get("DTSTART").dt
    end_prop = event.get("DTEND")
    duration_prop = event.get("DURATION")
    if end_prop is not None:
        end = end_prop.dt
    elif duration_prop is not None:
        end = start + duration_prop.dt
    else:
        end = None
    if isinstance(start, datetime):
        first = start.date()
        if end is None:
            return [first]
        end_dt = end if isinstance(end, datetime) else datetime.combine(end, time())
        last = end_dt.date() if end_dt.time() != time() else end_dt.date() - timedelta(days=1)
        last = max(last, first)
    else:
        first = start
        if end is None:
            return [first]
        end_date = end.date() if isinstance(end, datetime) else end
        last = max(end_date - timedelta(days=1), first)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
