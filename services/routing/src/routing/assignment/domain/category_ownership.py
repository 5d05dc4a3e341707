"""Which team owns which category (§5), as data with a per-deployment override."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from complaint_contracts.vocabulary import Category

DEFAULT_TEAM = "general"
DEFAULT_TEAM_OWNERSHIP: Mapping[str, str] = MappingProxyType(
    {
        "product_quality": "quality",
        "service_attitude": "service",
        "delivery_logistics": "logistics",
        "billing_refund": "billing",
        "privacy_data_leak": "privacy",
        "technical_fault": "tech-support",
        "process_policy": "policy",
        "other": DEFAULT_TEAM,
    }
)


def team_for_category(category: Category | str, overrides: Mapping[str, str] | None = None) -> str:
    """The owning team; ``overrides`` win over the defaults, unknown categories go to
    the general team so that a new category is never left without an owner."""
    if overrides and category in overrides:
        return overrides[category]
    return DEFAULT_TEAM_OWNERSHIP.get(category, DEFAULT_TEAM)
