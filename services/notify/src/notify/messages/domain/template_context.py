"""The variables each template gets: the event's stored facts plus what was looked up just
before sending (reference, the recipient's name, links), with codes turned into words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from notify.messages.domain.labels import (
    ESCALATION_LEVELS,
    ESCALATION_TRIGGERS,
    METRICS,
    SOLUTION_TYPES,
    display_time,
    label,
    signature,
)
from notify.messages.domain.promised_times import display_zone, format_due


@dataclass(frozen=True)
class LookedUp:
    """Facts fetched just in time; none of them is stored."""

    reference: str
    recipient_name: str | None
    language: str
    team: str | None = None
    tracking_url: str | None = None
    survey_url: str | None = None
    survey_expires_at: str | None = None
    opt_out_url: str | None = None  # an NPS invitation's "don't ask me again"
    priority: str | None = None
    case_url: str | None = None  # staff: where the case is opened
    standing_reference: str | None = None  # a duplicate: the complaint that stands
    # The acknowledgement's promised times (only those still ahead) and the complaint's
    # zone to show them in; a lost-link code and its end.
    first_response_due_at: datetime | None = None
    resolution_due_at: datetime | None = None
    timezone: str | None = None
    tracking_code: str | None = None
    code_expires_at: datetime | None = None


def message_context(
    *,
    template: str,
    stored: dict[str, Any],
    looked_up: LookedUp,
    zone: str,
) -> dict[str, Any]:
    lang = looked_up.language
    context: dict[str, Any] = {
        "reference": looked_up.reference,
        "name": looked_up.recipient_name,
        "language": lang,
    }
    if template in CUSTOMER_ZONE_MESSAGES:
        context |= _in_customer_zone(template, looked_up, zone=zone)
    elif template == "assignment":
        context |= {
            "team": stored.get("team") or looked_up.team or "-",
            "handoff": bool(stored.get("handoff")),
            "reason": stored.get("reason") or "",
        }
    elif template in ("sla_warning", "sla_breach"):
        context |= {
            "team": looked_up.team or "-",
            "metric": label(METRICS, language=lang, code=stored.get("metric")),
            "due_at": display_time(stored.get("due_at"), zone=zone),
            "priority": stored.get("priority"),
            "late": bool(stored.get("late")),
        }
        if template == "sla_warning":
            context["percent"] = stored.get("percent")
        else:
            context["breach_count"] = stored.get("breach_count")
    elif template == "resolution":
        context |= {
            "solution_summary": stored.get("solution_summary") or "",
            "solution_type": label(SOLUTION_TYPES, language=lang, code=stored.get("solution_type")),
            "owner": stored.get("owner") or "-",
        }
    elif template == "escalation":
        level = stored.get("level")
        context |= {
            "team": looked_up.team or "-",
            "level": level,
            "level_name": label(ESCALATION_LEVELS, language=lang, code=str(level)),
            "priority": looked_up.priority or "-",
            "trigger": label(ESCALATION_TRIGGERS, language=lang, code=stored.get("trigger")),
            "reason": stored.get("reason") or "",
            "case_url": looked_up.case_url,
        }
    elif template == "duplicate_notice":
        # The duplicate's own tracking link: its page shows the reference that stands.
        context |= {
            "standing_reference": looked_up.standing_reference,
            "tracking_url": looked_up.tracking_url,
        }
    elif template in WITHDRAWAL_MESSAGES:
        context |= _withdrawal(template, stored, looked_up, zone=zone)
    elif template in STAFF_MESSAGES:
        context |= _staff_message(template, stored, looked_up, zone=zone)
    elif template == "survey_invitation":
        expires = looked_up.survey_expires_at or stored.get("expires_at")
        context |= {
            "survey_url": looked_up.survey_url,
            "expires_at": display_time(expires, zone=zone),
            "reminder": bool(stored.get("reminder")),
        }
    elif template == "nps_invitation":
        expires = looked_up.survey_expires_at or stored.get("expires_at")
        context |= {
            "nps_url": looked_up.survey_url,
            "opt_out_url": looked_up.opt_out_url or looked_up.survey_url,
            "expires_at": display_time(expires, zone=zone),
        }
    return context


STAFF_MESSAGES = ("agent_reply", "agent_question")
CUSTOMER_ZONE_MESSAGES = ("acknowledgement", "tracking_code")


def _in_customer_zone(template: str, looked_up: LookedUp, *, zone: str) -> dict[str, Any]:
    """Times the customer reads in the complaint's zone (intake's, else notify's display
    zone): the acknowledgement's promised first response and resolution (None: "as soon
    as possible"), a lost-link code's end."""
    local = display_zone(looked_up.timezone, fallback=zone)
    lang = looked_up.language

    def shown(moment: datetime | None) -> str | None:
        return format_due(moment, local, lang) if moment is not None else None

    if template == "tracking_code":
        return {"code": looked_up.tracking_code, "expires_at": shown(looked_up.code_expires_at)}
    return {
        "first_response_due": shown(looked_up.first_response_due_at),
        "resolution_due": shown(looked_up.resolution_due_at),
        "zone_name": str(local),
        "tracking_url": looked_up.tracking_url,
    }


WITHDRAWAL_MESSAGES = ("withdrawal_notice", "withdrawal_confirmation")


def _withdrawal(
    template: str, stored: dict[str, Any], looked_up: LookedUp, *, zone: str
) -> dict[str, Any]:
    """The customer withdrew the complaint: when, and for the assignee its team and where
    the case is opened (the reason they gave is in the case file, not in the message)."""
    context: dict[str, Any] = {"withdrawn_at": display_time(stored.get("closed_at"), zone=zone)}
    if template == "withdrawal_notice":
        context |= {"team": looked_up.team or "-", "case_url": looked_up.case_url}
    return context


def _staff_message(
    template: str, stored: dict[str, Any], looked_up: LookedUp, *, zone: str
) -> dict[str, Any]:
    """What staff told (a first response, a reply) or asked the customer, signed by name
    (never a user id); the customer answers through their tracking link."""
    context = {
        "message": stored.get("message") or stored.get("question") or "",
        "signature": signature(stored.get("agent_name"), language=looked_up.language),
        "sent_at": display_time(stored.get("at"), zone=zone),
        "tracking_url": looked_up.tracking_url,
    }
    if template == "agent_reply":
        context["first"] = bool(stored.get("first"))
    return context
