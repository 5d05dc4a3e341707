"""Default category ownership (§5) and its override."""

from __future__ import annotations

import pytest
from complaint_contracts.vocabulary import CATEGORIES
from routing.assignment.domain.category_ownership import DEFAULT_TEAM_OWNERSHIP, team_for_category


@pytest.mark.parametrize(
    ("category", "team"),
    [
        ("billing_refund", "billing"),
        ("delivery_logistics", "logistics"),
        ("privacy_data_leak", "privacy"),
        ("product_quality", "quality"),
        ("service_attitude", "service"),
        ("technical_fault", "tech-support"),
        ("process_policy", "policy"),
        ("other", "general"),
    ],
)
def test_default_owner(category: str, team: str) -> None:
    assert team_for_category(category) == team


def test_every_category_has_an_owner() -> None:
    assert set(DEFAULT_TEAM_OWNERSHIP) == set(CATEGORIES)


def test_override_wins_and_the_rest_keeps_its_default() -> None:
    overrides = {"billing_refund": "finance"}
    assert team_for_category("billing_refund", overrides) == "finance"
    assert team_for_category("privacy_data_leak", overrides) == "privacy"


def test_unknown_category_goes_to_the_general_team() -> None:
    assert team_for_category("warranty_fraud") == "general"


def test_defaults_cannot_be_mutated() -> None:
    with pytest.raises(TypeError):
        DEFAULT_TEAM_OWNERSHIP["other"] = "nobody"  # type: ignore[index]
