"""Which channels each template has, and the rules for its SMS and robot versions.

Customer templates have an e-mail and an SMS version; staff templates an e-mail and a
group-chat robot version. The SMS version is rendered from its declared *parameters* only
(the values the provider's own template gets, e.g. Alibaba Cloud's ``${reference}``), so
notify's text and the provider's text cannot say different things. A robot notice is
rendered from the staff-safe facts only (:data:`ROBOT_FIELDS`): never a customer contact.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, Literal

from notify.messages.domain.planning import TemplateName

Channel = Literal["email", "sms", "robot"]
CHANNELS: Final[tuple[Channel, ...]] = ("email", "sms", "robot")
Audience = Literal["customer", "staff"]
Severity = Literal["info", "warning", "critical"]

CUSTOMER_TEMPLATES: Final[frozenset[TemplateName]] = frozenset(
    {
        "acknowledgement",
        "resolution",
        "survey_invitation",
        "duplicate_notice",
        "agent_reply",
        "agent_question",
        "withdrawal_confirmation",
        "nps_invitation",
        "tracking_code",
    }
)
STAFF_TEMPLATES: Final[frozenset[TemplateName]] = frozenset(
    {"assignment", "sla_warning", "sla_breach", "escalation", "withdrawal_notice"}
)

# Alibaba Cloud SMS: a template variable holds at most 35 characters for most variable
# types. Links are passed whole (they would not work cut); see the notify README.
MAX_SMS_PARAM: Final = 35
# A parameter without a value: providers refuse empty variables, and a blank would read
# as a gap in the text.
MISSING_VALUE: Final = "-"
_LINK = "link"


def _get(key: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda context: context.get(key)


# Per SMS template: parameter name -> where its value comes from in the message context.
# A parameter named "link" is a URL, passed whole; every other is cut to MAX_SMS_PARAM.
SMS_PARAMETERS: Final[Mapping[TemplateName, Mapping[str, Callable[[Mapping[str, Any]], Any]]]] = {
    "acknowledgement": {"reference": _get("reference"), _LINK: _get("tracking_url")},
    "resolution": {"reference": _get("reference"), "solution": _get("solution_type")},
    "survey_invitation": {"reference": _get("reference"), _LINK: _get("survey_url")},
    "duplicate_notice": {
        "reference": _get("reference"),
        "standing": _get("standing_reference"),
    },
    "agent_reply": {"reference": _get("reference"), _LINK: _get("tracking_url")},
    "agent_question": {"reference": _get("reference"), _LINK: _get("tracking_url")},
    "withdrawal_confirmation": {"reference": _get("reference")},
    "nps_invitation": {"reference": _get("reference"), _LINK: _get("nps_url")},
    "tracking_code": {
        "reference": _get("reference"),
        "code": _get("code"),
        "expires": _get("expires_at"),
    },
}

# What a robot notice may show: case facts only (reference, team, priority, metric, due
# time, level, reason codes). Names, addresses, numbers and free text stay out: a group
# chat is read by many, and free text could quote the customer.
ROBOT_FIELDS: Final[frozenset[str]] = frozenset(
    {
        "reference",
        "team",
        "priority",
        "metric",
        "due_at",
        "percent",
        "breach_count",
        "late",
        "level",
        "level_name",
        "trigger",
        "handoff",
        "withdrawn_at",
    }
)
# Fields that name or reach a person; no robot template may use one (tested).
CONTACT_FIELDS: Final[frozenset[str]] = frozenset(
    {
        "name",
        "recipient_name",
        "customer_name",
        "email",
        "phone",
        "phone_number",
        "address",
        "message",
        "reason",
        "signature",
        "tracking_url",
        "survey_url",
        "nps_url",
        "opt_out_url",
        "code",
    }
)


def audience_of(template: str) -> Audience:
    """Raises ``KeyError`` for a name that is not a template."""
    if template in CUSTOMER_TEMPLATES:
        return "customer"
    if template in STAFF_TEMPLATES:
        return "staff"
    raise KeyError(template)


def channels_of(template: str) -> tuple[Channel, ...]:
    """The channels ``template`` has a version for (empty for an unknown name)."""
    if template in CUSTOMER_TEMPLATES:
        return ("email", "sms")
    if template in STAFF_TEMPLATES:
        return ("email", "robot")
    return ()


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


def sms_params(template: TemplateName, context: Mapping[str, Any]) -> dict[str, str]:
    """The provider template's parameters of ``template``'s SMS, from its message context.

    Guarantees: exactly the declared names; every value one line and non-empty
    (:data:`MISSING_VALUE` when the context has none); every value except ``link`` at most
    :data:`MAX_SMS_PARAM` characters. Raises ``KeyError`` for a template without an SMS.
    """
    params: dict[str, str] = {}
    for name, source in SMS_PARAMETERS[template].items():
        raw = source(context)
        value = _one_line(raw) if raw not in (None, "") else ""
        if name != _LINK:
            value = value[:MAX_SMS_PARAM].strip()
        params[name] = value or MISSING_VALUE
    return params


def robot_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """Only the staff-safe facts of ``context`` (:data:`ROBOT_FIELDS`), texts on one line: a
    robot template that reached for anything else fails to render instead of leaking it, and
    a value cannot add a line (a fact) of its own."""
    return {
        key: _one_line(value) if isinstance(value, str) else value
        for key, value in context.items()
        if key in ROBOT_FIELDS
    }


def notice_severity(template: TemplateName, context: Mapping[str, Any]) -> Severity:
    """A breach is critical; an escalation critical from level 2 (manager), else warning;
    a warning is a warning; every other notice is information."""
    if template == "sla_breach":
        return "critical"
    if template == "escalation":
        level = context.get("level")
        return "critical" if isinstance(level, int) and level >= 2 else "warning"
    if template == "sla_warning":
        return "warning"
    return "info"
