"""What the tracking page's templates are given: the complaint as the use case built it,
its times formatted in the customer's zone and language, the one-time notice of the
action just done (Post/Redirect/Get: ``?done=``), and the message form's state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from complaint_customer_web.catalog import Translator
from complaint_customer_web.times import format_date, format_time, zone_label, zone_of

from intake.complaints.domain.tracking import tracking_url
from intake.pages.domain.status import PromiseRow
from intake.pages.service import TrackingPage
from intake.projection.domain.visibility import NEUTRAL_SIGNATURE

# ?done= → the notice's words; the ones that show the link (new link, follow-up) too.
NOTICES: Final = {
    "message": "done.message",
    "reopened": "done.reopened",
    "follow_up": "done.follow_up",
    "withdrawn": "done.withdrawn",
    "new_link": "done.new_link",
    "closed_already": "withdraw.closed",
    "recovered": "done.recovered",
}
SHOWS_LINK: Final = frozenset({"new_link", "follow_up", "recovered"})


@dataclass(frozen=True)
class FormState:
    """The message form drawn again after a refusal: the customer's text (control
    characters removed: the browser would mangle them) and what was wrong."""

    text: str = ""
    error: str | None = None


class Clock:
    """Times of one page in the customer's zone (the complaint's, else the organisation's)."""

    def __init__(self, tr: Translator, zone_name: str | None, fallback_zone: str) -> None:
        self.tr = tr
        self.zone = zone_of(zone_name, fallback=fallback_zone)

    def when(self, moment: datetime) -> str:
        return format_time(moment, self.zone, self.tr.language)

    def day(self, moment: datetime) -> str:
        return format_date(moment, self.zone, self.tr.language)

    def label(self) -> str:
        return zone_label(self.zone, datetime.now(UTC))


def promise_text(tr: Translator, clock: Clock, row: PromiseRow) -> str:
    time = clock.when(row.moment) if row.moment else ""
    if row.word in ("met", "breached"):
        return tr.t(f"promise.{row.metric}.{row.word}", time=time)
    return tr.t(f"promise.{row.word}", time=time)


def next_text(tr: Translator, clock: Clock, page: TrackingPage) -> str:
    step = page.next
    time = clock.when(step.due_at) if step.due_at else ""
    date = clock.day(step.until) if step.until else ""
    return tr.t(f"next.{step.key}", time=time, date=date)


def signature(tr: Translator, name: str | None) -> str | None:
    """The neutral signature ("客服" / "Customer Service") in the page's language; an
    agent's or a team's name as it is."""
    if name in NEUTRAL_SIGNATURE.values():
        return NEUTRAL_SIGNATURE.get(tr.language, name)
    return name


def message_hint(tr: Translator, page: TrackingPage) -> str | None:
    if page.message_route == "reopen":
        return tr.t("form.message.hint_reopen")
    if page.message_route == "follow_up":
        return tr.t("form.message.hint_new")
    return None


def page_context(
    *,
    tr: Translator,
    page: TrackingPage,
    fallback_zone: str,
    done: str | None,
    link_token: str,
    public_base_url: str,
    csrf: str,
    submission: str,
    form: FormState | None = None,
) -> dict[str, Any]:
    clock = Clock(tr, page.timezone, fallback_zone)
    notice = None
    if done in NOTICES:
        related = page.related.reference if page.related else ""
        notice = tr.t(NOTICES[done], reference=related)
    return {
        "page": page,
        "page_path": f"/c/{page.complaint_id}",
        "when": clock.when,
        "zone_label": clock.label(),
        "promise_text": lambda row: promise_text(tr, clock, row),
        "next_text": next_text(tr, clock, page),
        "signature": lambda name: signature(tr, name),
        "message_hint": message_hint(tr, page),
        "notice": notice,
        "done": done,
        "shown_link": tracking_url(public_base_url, link_token) if done in SHOWS_LINK else None,
        "csrf": csrf,
        "submission": submission,
        "form": form or FormState(),
        "form_error": tr.t(form.error, count=len(form.text)) if form and form.error else None,
    }
