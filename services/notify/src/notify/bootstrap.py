"""Notify's composition root: everything the routes, the consumer and the delivery loop use,
built once from the settings.

``main.create_app`` builds :class:`Dependencies` and keeps it on ``app.state``; routes get it
through :data:`DependenciesDep`, the consumer through ``messaging.handlers(deps)``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

import structlog
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
from notify.messages.service import SuppressionCheck
from notify.replies.loop import Replies, build_replies
from notify.robots.sender import RobotSender, make_robot_sender
from notify.sms.sender import SmsSender, make_sms_sender
from notify.suppressions.service import suppression_for
from notify.webhooks.loop import Webhooks, make_webhooks

MIGRATIONS = Path(__file__).parent / "migrations"
log = structlog.get_logger(__name__)


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
    sms_sender: SmsSender | None = None  # None: no SMS provider configured
    robot_sender: RobotSender | None = None  # None: no group-chat robot configured
    # Built by build_dependencies; None only in a hand-built test double.
    webhooks: Webhooks | None = None
    # Replies, bounces and unsubscribes (notify.replies); None only in a hand-built double.
    replies: Replies | None = None

    @property
    def database(self) -> Database:
        return self.runtime.database


def load_directory(settings: NotifySettings) -> StaffDirectory:
    """Inline JSON, or the path of a JSON file; a bad directory stops the start-up."""
    value = settings.notify_staff_directory.strip()
    text = value if not value or value.startswith("{") else Path(value).read_text("utf-8")
    return parse_directory(text, default_language=settings.notify_default_staff_language)


def make_channel(settings: NotifySettings, *, bounce_address: str | None = None) -> Channel:
    """SMTP, or only a masked log line where there is no SMTP server (``NOTIFY_CHANNEL``).
    ``bounce_address``: the envelope sender, where delivery reports go (notify's reply
    endpoint, ``notify.replies``); else ``SMTP_FROM``'s address."""
    if settings.notify_channel == "log":
        return LogChannel()
    return SmtpChannel(
        envelope_sender=bounce_address,
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        timeout_s=settings.smtp_timeout_s,
        username=settings.smtp_username,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
        pool_size=settings.notify_send_concurrency,
    )


def _suppression_check(database: Database) -> SuppressionCheck:
    """Bounces and unsubscribes recorded for a recipient (``notify.suppressions``)."""

    async def check(recipient_key: str, channel: str, template: str) -> str | None:
        async with database.sessions() as session:
            return await suppression_for(
                session=session, recipient_key=recipient_key, channel=channel, template=template
            )

    return check


def build_dependencies(
    settings: NotifySettings, *, clock: Callable[[], datetime] = utcnow
) -> Dependencies:
    runtime = ServiceRuntime(settings=settings, migrations=MIGRATIONS, produces=[topics.NOTIFY])
    if os.environ.get("NOTIFY_MAX_ATTEMPTS"):
        # Gone with retries measured in time: say so rather than ignore it silently.
        log.warning(
            "NOTIFY_MAX_ATTEMPTS is no longer read: retries last NOTIFY_RETRY_WINDOW_S",
            notify_retry_window_s=settings.notify_retry_window_s,
        )
    directory = load_directory(settings)
    internal_api = InternalApi(
        intake_url=settings.intake_internal_url,
        feedback_url=settings.feedback_internal_url,
        # Without AUTH_SIGNING_KEY notify could send nothing: NotConfigured stops the start-up.
        caller=runtime.service_caller(),
        timeout_s=settings.internal_http_timeout_s,
    )
    replies = build_replies(settings, database=runtime.database, api=internal_api, clock=clock)
    channel = make_channel(settings, bounce_address=replies.addressing.bounce_address())
    renderer = Renderer()
    sms_sender = make_sms_sender(settings)
    robot_sender = make_robot_sender(settings)
    delivery_loop = DeliveryLoop(
        database=runtime.database,
        settings=settings,
        api=internal_api,
        channel=channel,
        directory=directory,
        renderer=renderer,
        clock=clock,
        sms=sms_sender,
        robots=robot_sender,
        suppression=_suppression_check(runtime.database),
        addressing=replies.addressing,
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
        sms_sender=sms_sender,
        robot_sender=robot_sender,
        webhooks=make_webhooks(settings, runtime.database, clock=clock),
        replies=replies,
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
