"""What the routers take from the app: settings, the link secret, the survey URL."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from feedback.config import FeedbackSettings

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


def settings_of(request: Request) -> FeedbackSettings:
    settings: FeedbackSettings = request.app.state.settings
    return settings


def link_secret_of(request: Request) -> str:
    """The effective secret: FEEDBACK_LINK_SECRET, or the per-process one main made up."""
    secret: str = request.app.state.link_secret
    return secret


def survey_url(settings: FeedbackSettings, token: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/v1/surveys/{token}"
