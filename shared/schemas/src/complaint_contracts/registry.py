"""Lookup from a CloudEvents type to its data model, over every event of the platform."""

from __future__ import annotations

from functools import cache

from complaint_contracts.base import EventData


@cache
def _by_type() -> dict[str, type[EventData]]:
    from complaint_contracts.events import ALL_EVENTS

    return {model.ce_type(): model for model in ALL_EVENTS}


def model_for_type(ce_type: str) -> type[EventData] | None:
    return _by_type().get(ce_type)
