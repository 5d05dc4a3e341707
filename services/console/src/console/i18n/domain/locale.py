"""A reader's locale: the language, the time zone and the moment the page is rendered.
Templates get one per request and format everything through it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from console.i18n.domain import formatting
from console.i18n.domain.catalog import translate
from console.i18n.domain.language import Language


@dataclass(frozen=True, slots=True)
class Locale:
    language: Language
    zone: tzinfo
    now: datetime

    def t(self, key: str, /, **params: object) -> str:
        """The message ``key`` in this language, ``{name}`` placeholders filled in."""
        return translate(self.language, key, params)

    def word(self, group: str, value: str | None) -> str:
        """A vocabulary word (status, channel, category, ...) or the raw value when the
        catalog does not know it (a value a newer routing added)."""
        if value is None:
            return "—"
        return translate(self.language, f"{group}.{value}", default=value)

    def when(self, moment: datetime | None) -> str:
        return (
            "—" if moment is None else formatting.date_time_text(moment, self.zone, self.language)
        )

    def short_when(self, moment: datetime | None) -> str:
        if moment is None:
            return "—"
        return formatting.short_date_time_text(moment, self.now, self.zone, self.language)

    def ago(self, moment: datetime | None) -> str:
        return "—" if moment is None else formatting.ago_text(moment, self.now, self.language)

    def duration(self, seconds: int) -> str:
        return formatting.duration_text(seconds, self.language)

    def time_left(self, seconds: int) -> str:
        return formatting.time_left_text(seconds, self.language)

    def iso(self, moment: datetime | None) -> str:
        """The machine-readable form for ``<time datetime=...>``."""
        return "" if moment is None else moment.astimezone(self.zone).isoformat(timespec="minutes")
