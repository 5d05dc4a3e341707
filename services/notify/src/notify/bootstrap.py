"""Notify's composition root: everything the routes, the consumer and the delivery loop use,
built once from the settings.

``main.create_app`` builds :class:`Dependencies` and keeps it on ``app.state``; routes get it
through :data:`DependenciesDep`, the consumer through ``messaging.handlers(deps)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

from complaint_contracts import topics
from complaint_runtime.database import Database, utcnow
from complaint_runtime.service import ServiceRuntime
from fastapi import Depends, Request

from notify.adapters.channels import Channel, LogChannel, SmtpChannel
from notify.adapters.internal_api import InternalApi
from notify.config import NotifySettings
from notify.deliveries.loop import DeliveryLoop
from notify.messages.domain.directory import StaffDirectory, parse_directory
from notify.messages.rendering import Renderer

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass(frozen=True)
class Dependencies:
    """What notify's routes, consumer and delivery loop use; one per process."""

    settings: NotifySettings
    runtime: ServiceRuntime
    directory: StaffDirectory
    channel: Channel
    internal_api: InternalApi
    renderer: Renderer
    delivery_loop: DeliveryLoop
    clock: Callable[[], datetime]

    @property
    def database(self) -> Database:
        return self.runtime.database


def load_directory(settings: NotifySettings) -> StaffDirectory:
    """Inline JSON, or the path of a JSON file; a bad directory stops the start-up."""
    value = settings.notify_staff_directory.strip()
    text = value if not value or value.startswith("{") else Path(value).read_text("utf-8")
    return parse_directory(text, default_language=settings.notify_default_staff_language)


def make_channel(settings: NotifySettings) -> Channel:
    """SMTP, or only a masked log line where there is no SMTP server (``NOTIFY_CHANNEL``)."""
    if settings.notify_channel == "log":
        return LogChannel()
    return SmtpChannel(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        timeout_s=settings.smtp_timeout_s,
        username=settings.smtp_username,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
        pool_size=settings.notify_send_concurrency,
    )


def build_dependencies(
    settings: NotifySettings, *, clock: Callable[[], datetime] = utcnow
) -> Dependencies:
    runtime = ServiceRuntime(settings=settings, migrations=MIGRATIONS, produces=[topics.NOTIFY])
    directory = load_directory(settings)
    channel = make_channel(settings)
    internal_api = InternalApi(
        intake_url=settings.intake_internal_url,
        feedback_url=settings.feedback_internal_url,
        # Without AUTH_SIGNING_KEY notify could send nothing: NotConfigured stops the start-up.
        caller=runtime.service_caller(),
        timeout_s=settings.internal_http_timeout_s,
    )
    renderer = Renderer()
    delivery_loop = DeliveryLoop(
        database=runtime.database,
        settings=settings,
        api=internal_api,
        channel=channel,
        directory=directory,
        renderer=renderer,
        clock=clock,
    )
    return Dependencies(
        settings=settings,
        runtime=runtime,
        directory=directory,
        channel=channel,
        internal_api=internal_api,
        renderer=renderer,
        delivery_loop=delivery_loop,
        clock=clock,
    )


def dependencies(request: Request) -> Dependencies:
    """The one place that reads ``app.state``."""
    deps: Dependencies = request.app.state.dependencies
    return deps


async def _dependency(request: Request) -> Dependencies:
    # A coroutine: FastAPI runs a plain function dependency in a worker thread, a thread
    # hop on every request.
    return dependencies(request)


DependenciesDep = Annotated[Dependencies, Depends(_dependency)]
