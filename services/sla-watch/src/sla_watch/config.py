"""sla-watch's settings: the shared ones plus targets, thresholds and the firing loop."""

from __future__ import annotations

from typing import Annotated, Any

from complaint_runtime.settings import ServiceSettings
from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from sla_watch.policies.domain.policy import check_targets


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
    sla_first_response_targets_s: dict[str, int] | None = Field(
        None,
        description='Development and test override, JSON, e.g. {"P1": 6}: at start the '
        "default-Px policies get these first-response targets (business seconds of their "
        "calendar). Unset: the policies stay as stored (managed with the admin API).",
    )
    sla_resolution_targets_s: dict[str, int] | None = Field(
        None,
        description='Development and test override, JSON, e.g. {"P1": 12}: at start the '
        "default-Px policies get these resolution targets. Unset: policies stay as stored.",
    )
    sla_recompute_tick_s: float = Field(
        1.0, gt=0, description="How often the recompute loop looks for pending jobs"
    )
    sla_recompute_batch: int = Field(
        500,
        gt=0,
        le=10_000,
        description="Open clocks recomputed per transaction after a policy or calendar change",
    )
    sla_ics_max_bytes: int = Field(
        1_000_000, gt=0, description="Largest .ics file the calendar import accepts"
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

    @field_validator("sla_first_response_targets_s", "sla_resolution_targets_s")
    @classmethod
    def _targets(cls, value: dict[str, int] | None) -> dict[str, int] | None:
        return None if value is None else check_targets(value)
