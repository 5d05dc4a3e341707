"""Notify's app factory: ``uvicorn --factory notify.main:create_app``."""

from __future__ import annotations

from pathlib import Path

from complaint_contracts import topics
from complaint_runtime.service import ServiceRuntime, build_app
from fastapi import FastAPI

from notify import messaging
from notify.api.deliveries import router as deliveries_router
from notify.channels import Channel, LogChannel, SmtpChannel
from notify.config import NotifySettings
from notify.contacts import InternalApi
from notify.delivery import DeliveryLoop
from notify.domain.directory import StaffDirectory, parse_directory

MIGRATIONS = Path(__file__).parent / "migrations"


def load_directory(settings: NotifySettings) -> StaffDirectory:
    """Inline JSON, or the path of a JSON file; a bad directory stops the start-up."""
    value = settings.notify_staff_directory.strip()
    text = value if not value or value.startswith("{") else Path(value).read_text("utf-8")
    return parse_directory(text, default_language=settings.notify_default_staff_language)


def make_channel(settings: NotifySettings) -> Channel:
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
    )


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    settings = settings or NotifySettings()
    runtime = ServiceRuntime(settings=settings, migrations=MIGRATIONS, produces=[topics.NOTIFY])
    directory = load_directory(settings)
    runtime.consume(
        topics=[topics.INTAKE, topics.ROUTING, topics.SLA, topics.FEEDBACK],
        handlers=messaging.handlers_for(escalation_group=directory.escalation_group),
    )
    api = InternalApi(
        intake_url=settings.intake_internal_url,
        feedback_url=settings.feedback_internal_url,
        secret=settings.auth_jwt_secret,
        timeout_s=settings.internal_http_timeout_s,
    )
    loop = DeliveryLoop(
        database=runtime.database,
        settings=settings,
        api=api,
        channel=make_channel(settings),
        directory=directory,
    )
    runtime.run_in_background("delivery-loop", loop.run, stop=loop.stop)
    app = build_app(
        runtime=runtime,
        title="Complaint notify",
        description=(
            "Sends acknowledgements, assignment notices, SLA warnings and breaches, "
            "resolution notices and survey invitations; keeps the delivery log."
        ),
        routers=[deliveries_router],
    )
    app.state.settings = settings
    app.state.delivery_loop = loop
    return app
