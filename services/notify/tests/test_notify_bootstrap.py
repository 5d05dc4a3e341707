"""The composition root: the staff directory and the channel come from the settings, and the
app, the consumer's table and the delivery loop share one set of dependencies."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from complaint_contracts.events import ErasureRequested, SlaClockStarted
from notify import messaging
from notify.adapters.channels import LogChannel, SmtpChannel
from notify.bootstrap import Dependencies, load_directory, make_channel
from notify.config import NotifySettings
from notify.main import create_app
from notify.messages.domain.directory import InvalidDirectory


def test_staff_directory_from_a_file_or_inline(tmp_path: Path) -> None:
    path = tmp_path / "staff.json"
    path.write_text('{"team_leads": {"billing": "lead-wang"}}', encoding="utf-8")
    from_file = load_directory(NotifySettings(notify_staff_directory=str(path)))
    inline = load_directory(NotifySettings(notify_staff_directory='{"team_leads": {"a": "b"}}'))
    assert from_file.team_lead_of("billing") == "lead-wang"
    assert inline.team_lead_of("a") == "b"
    with pytest.raises(InvalidDirectory):
        load_directory(NotifySettings(notify_staff_directory="{not json"))


def test_the_channel_follows_notify_channel() -> None:
    assert isinstance(make_channel(NotifySettings(notify_channel="log")), LogChannel)
    assert isinstance(make_channel(NotifySettings(notify_channel="smtp")), SmtpChannel)


def test_the_handlers_cover_every_notifying_event_and_erasures(
    build_deps: Callable[..., Dependencies],
) -> None:
    table = messaging.handlers(build_deps())
    assert set(table) == {*messaging.NOTIFYING, SlaClockStarted, ErasureRequested}


async def test_the_app_keeps_the_dependencies_it_was_built_with(tmp_path: Path) -> None:
    app = create_app(NotifySettings(database_url=f"sqlite+aiosqlite:///{tmp_path}/notify.db"))
    deps: Dependencies = app.state.dependencies
    assert deps.runtime is app.state.runtime
    assert deps.database is app.state.runtime.database
    await deps.internal_api.aclose()
    await deps.database.dispose()
