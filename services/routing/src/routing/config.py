"""Routing's settings (environment variables)."""

from __future__ import annotations

from complaint_runtime.settings import ServiceSettings


class RoutingSettings(ServiceSettings):
    service_name: str = "routing"
    database_url: str = "sqlite+aiosqlite:///./.run/routing.db"
