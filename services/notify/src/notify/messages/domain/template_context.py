"""The variables each template gets: the event's stored facts plus what was looked up just
before sending (reference, the recipient's name, links), with codes turned into words."""

from __future__ import annotations

from dataclasses import dataclass
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
    priority: str | None = None
    case_url: str | None = None  # staff: where the case is opened
    standing_reference: str | None = None  # a duplicate: the complaint that stands


def message_context(
    *,
    template: str,
    stored: dict[str, Any],
    looked_up: LookedUp,
    expected_first_response_h: int,
    zone: str,
) -> dict[str, Any]:
    lang = looked_up.language
    context: dict[str, Any] = {
        "reference": looked_up.reference,
        "name": looked_up.recipient_name,
        "language": lang,
    }
    if template == "acknowledgement":
        context |= {
            "expected_hours": expected_first_response_h,
            "tracking_url": looked_up.tracking_url,
        }
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
    return context


STAFF_MESSAGES = ("agent_reply", "agent_question")
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
