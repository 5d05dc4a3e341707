"""One sample context per template, built as the delivery loop builds a real one
(:func:`message_context` over stored event facts and looked-up facts).

Every value is fixed and fictitious, yet realistic in shape and length, so a preview shows
what a customer or a team would really get: the tracking link is intake's
(``/t/`` and a 32-character token), the survey and NPS links are feedback's (``/s/``, ``/n/``
and a signed token of about 280 characters), so an SMS preview counts true segments.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from notify.messages.domain.planning import TemplateName
from notify.messages.domain.template_context import LookedUp, message_context

SAMPLE_ZONE: Final = "Asia/Shanghai"
SAMPLE_REFERENCE: Final = "C-20261123-000042"
SAMPLE_TRACKING_URL: Final = "https://complaints.example.com/t/q3Zr7YkP0aLm9XcV2bNw8sTe4uHj6GdF"
# An HS256 token of feedback's shape, signed with a made-up key over made-up ids.
_SAMPLE_SIGNED_PART: Final = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJmZWVkYmFjay1zdXJ2ZXkiLCJyaWQiOiIwMTk2ZjdhMi"
    "01YjFjLTdkM2UtOGY0MC0xYTJiM2M0ZDVlNmYiLCJjaWQiOiIwMTk2ZjdhMi00YzJkLTdlMWYtOWEzMC0yYjNjNGQ1ZT"
    "ZmNzAiLCJleHAiOjE3OTYwMzI4MDAsImxuZyI6InpoLUNOIn0.ynB1joAjCOLKOgXiD4F8JwiSLsHy8oeaclnjiojqDA0"
)
SAMPLE_SURVEY_URL: Final = f"https://feedback.example.com/s/{_SAMPLE_SIGNED_PART}"
SAMPLE_NPS_URL: Final = f"https://feedback.example.com/n/{_SAMPLE_SIGNED_PART}"
_AT: Final = "2026-11-23T10:00:00+00:00"

# What each template's event stores (planning.py's context), with sample values.
SAMPLE_STORED: Final[dict[TemplateName, dict[str, Any]]] = {
    "acknowledgement": {"reference": SAMPLE_REFERENCE},
    "assignment": {"team": "billing", "handoff": False, "reason": "category billing"},
    "sla_warning": {
        "metric": "first_response",
        "percent": 75,
        "due_at": _AT,
        "priority": "P2",
        "late": False,
    },
    "sla_breach": {
        "metric": "resolution",
        "due_at": _AT,
        "priority": "P1",
        "breach_count": 1,
        "late": False,
    },
    "resolution": {
        "solution_summary": "已为您办理全额退款，款项将原路退回。",
        "solution_type": "refund",
        "owner": "李娜",
    },
    "survey_invitation": {"request_id": "req-sample", "reminder": False, "expires_at": _AT},
    "escalation": {
        "level": 2,
        "previous_level": 1,
        "trigger": "resolution_breach",
        "reason": "resolution clock breached",
        "metric": "resolution",
    },
    "duplicate_notice": {"duplicate_of": "0196f7a2-0000-7000-8000-000000000001"},
    "agent_reply": {
        "message": "退款已重新提交，预计 3 个工作日内到账。",
        "agent_name": "李娜",
        "first": False,
        "at": _AT,
    },
    "agent_question": {"question": "请提供退款单号。", "agent_name": "李娜", "at": _AT},
    "withdrawal_notice": {"closed_at": _AT},
    "withdrawal_confirmation": {"closed_at": _AT},
    "tracking_code": {"request_id": "req-code", "expires_at": _AT},
    "nps_invitation": {"request_id": "req-nps", "expires_at": _AT},
}


def sample_looked_up(*, template: TemplateName, language: str) -> LookedUp:
    """The facts looked up before sending, as a fictitious recipient would have them: a
    customer's name for a customer template, a staff member's for a staff one."""
    staff = template in ("assignment", "sla_warning", "sla_breach", "escalation")
    return LookedUp(
        reference=SAMPLE_REFERENCE,
        recipient_name="王磊" if staff or template == "withdrawal_notice" else "张伟",
        language=language,
        team="billing",
        tracking_url=SAMPLE_TRACKING_URL,
        survey_url=SAMPLE_NPS_URL if template == "nps_invitation" else SAMPLE_SURVEY_URL,
        survey_expires_at="2026-11-30T10:00:00+00:00",
        opt_out_url=f"{SAMPLE_NPS_URL}#opt-out",
        priority="P2",
        case_url="https://console.example.com/cases/0196f7a2-0000-7000-8000-000000000002",
        standing_reference="C-20261120-000007",
        first_response_due_at=datetime(2026, 11, 24, 6, 30, tzinfo=UTC),
        resolution_due_at=datetime(2026, 11, 26, 10, 0, tzinfo=UTC),
        timezone=SAMPLE_ZONE,
        tracking_code="004217",
        code_expires_at=datetime(2026, 11, 23, 10, 10, tzinfo=UTC),
    )


def sample_context(*, template: TemplateName, language: str) -> dict[str, Any]:
    """The message context of ``template`` in ``language`` with the sample values."""
    return message_context(
        template=template,
        stored=SAMPLE_STORED[template],
        looked_up=sample_looked_up(template=template, language=language),
        zone=SAMPLE_ZONE,
    )
