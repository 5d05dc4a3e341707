"""sla-watch's settings: the shared ones plus targets, thresholds and the firing loop."""

from __future__ import annotations

from typing import Annotated, Any

from complaint_runtime.settings import ServiceSettings
from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from sla_watch.domain.policy import (
    DEFAULT_FIRST_RESPONSE_TARGETS_S,
    DEFAULT_RESOLUTION_TARGETS_S,
    merge_targets,
)


class SlaSettings(ServiceSettings):
    service_name: str = "sla-watch"
    database_url: str = "sqlite+aiosqlite:///./.run/sla-watch.db"
    sla_tick_s: float = Field(0.5, gt=0, description="How often the firing loop looks")
    sla_fire_batch: int = Field(
        500, gt=0, le=10_000, description="Due clocks handled per firing transaction"
    )
    sla_warning_percents: Annotated[tuple[int, ...], NoDecode] = Field(
        (50, 75, 90),
        description="Warning thresholds in % of the target, comma-separated (breach is 100)",
    )
    sla_late_after_s: float = Field(
        5.0, ge=0, description="A warning or breach sent later than this after it fell due is late"
    )
    sla_first_response_targets_s: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_FIRST_RESPONSE_TARGETS_S),
        description='JSON, e.g. {"P1": 7200}; priorities left out keep their default',
    )
    sla_resolution_targets_s: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_RESOLUTION_TARGETS_S),
        description='JSON, e.g. {"P1": 86400}; priorities left out keep their default',
    )
    sla_metrics_refresh_s: float = Field(
        15.0, gt=0, description="How often the clocks-running gauge is recounted"
    )
    sla_api_max_clocks: int = Field(
        100, gt=0, le=1000, description="Most clocks the read API returns for one complaint"
    )

    @field_validator("sla_warning_percents", mode="before")
    @classmethod
    def _parse_percents(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("sla_warning_percents")
    @classmethod
    def _check_percents(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(not 0 < p < 100 for p in value):
            raise ValueError("warning percents must lie between 1 and 99")
        return tuple(sorted(set(value)))

    @field_validator("sla_first_response_targets_s")
    @classmethod
    def _first_response(cls, value: dict[str, int]) -> dict[str, int]:
        return merge_targets(value, DEFAULT_FIRST_RESPONSE_TARGETS_S)

    @field_validator("sla_resolution_targets_s")
    @classmethod
    def _resolution(cls, value: dict[str, int]) -> dict[str, int]:
        return merge_targets(value, DEFAULT_RESOLUTION_TARGETS_S)
