"""Words shown in messages for the platform's codes, per language, and display times."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

METRICS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "first_response": "首次响应",
        "next_response": "后续响应",
        "resolution": "解决",
    },
    "en": {
        "first_response": "first response",
        "next_response": "next response",
        "resolution": "resolution",
    },
}
SOLUTION_TYPES: dict[str, dict[str, str]] = {
    "zh-CN": {
        "apology": "致歉",
        "explanation": "解释说明",
        "refund": "退款",
        "compensation": "补偿",
        "repair": "维修",
        "replacement": "更换",
        "process_fix": "流程改进",
        "other": "其他",
    },
    "en": {
        "apology": "apology",
        "explanation": "explanation",
        "refund": "refund",
        "compensation": "compensation",
        "repair": "repair",
        "replacement": "replacement",
        "process_fix": "process improvement",
        "other": "other",
    },
}

# Keyed by the level as text: codes of every table here are strings.
ESCALATION_LEVELS: dict[str, dict[str, str]] = {
    "zh-CN": {"0": "坐席", "1": "组长", "2": "经理", "3": "高级升级小组"},
    "en": {"0": "agent", "1": "team lead", "2": "manager", "3": "senior escalation group"},
}
ESCALATION_TRIGGERS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "first_response_breach": "首次响应超时",
        "next_response_breach": "后续响应超时",
        "resolution_breach": "解决超时",
        "p1_breach": "P1 投诉超时",
        "repeated_breach": "再次超时",
        "manual": "人工升级",
        "de_escalation": "降级",
    },
    "en": {
        "first_response_breach": "first-response breach",
        "next_response_breach": "next-response breach",
        "resolution_breach": "resolution breach",
        "p1_breach": "P1 breach",
        "repeated_breach": "second breach",
        "manual": "manual escalation",
        "de_escalation": "de-escalation",
    },
}


# How a message from staff is signed when the event carries no name (never a user id).
NEUTRAL_SIGNATURE: dict[str, str] = {"zh-CN": "客服", "en": "Customer Service"}


def signature(agent_name: str | None, *, language: str) -> str:
    """The agent's display name or team name the event carries, else the neutral label."""
    if agent_name and agent_name.strip():
        return agent_name.strip()
    return NEUTRAL_SIGNATURE.get(language, NEUTRAL_SIGNATURE["zh-CN"])


def label(table: dict[str, dict[str, str]], *, language: str, code: str | None) -> str:
    """The word for ``code`` in ``language``; an unknown code is shown as itself."""
    if code is None:
        return ""
    return table.get(language, table["en"]).get(code, code)


def display_time(value: str | datetime | None, *, zone: str) -> str:
    """An instant as a reader in ``zone`` sees it, e.g. ``2026-11-23 18:00 (Asia/Shanghai)``."""
    if value is None:
        return ""
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    local = instant.astimezone(ZoneInfo(zone))
    return f"{local:%Y-%m-%d %H:%M} ({zone})"
