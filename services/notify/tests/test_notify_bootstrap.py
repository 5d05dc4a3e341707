"""The composition root: the staff directory and the channel come from the settings, the
app, the consumer's table and the delivery loop share one set of dependencies, and notify
signs its calls with its own key (no key: no start)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from complaint_contracts.events import (
    ComplaintRecategorized,
    ComplaintTriaged,
    ErasureRequested,
    SlaClockStarted,
)
from complaint_runtime.dev_identity import DevIdentity
from complaint_runtime.errors import NotConfigured
from notify import messaging
from notify.adapters.channels import LogChannel, SmtpChannel
from notify.bootstrap import Dependencies, load_directory, make_channel
from notify.config import NotifySettings
from notify.main import create_app
from notify.messages.domain.directory import InvalidDirectory
from notify.messages.service import recipient_hash_key


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
    # Also every event notify records a fact of (staff notices read no customer contacts).
    recorded = {ComplaintTriaged, ComplaintRecategorized}
    assert {*messaging.NOTIFYING, SlaClockStarted, ErasureRequested, *recorded} <= set(table)


def _keys(identity: DevIdentity, service: str = "notify") -> dict[str, str]:
    return {k.lower(): v for k, v in identity.env(service).items()}


async def test_the_app_keeps_the_dependencies_it_was_built_with(
    tmp_path: Path, identity: DevIdentity
) -> None:
    app = create_app(
        NotifySettings(database_url=f"sqlite+aiosqlite:///{tmp_path}/notify.db", **_keys(identity))
    )
    deps: Dependencies = app.state.dependencies
    assert deps.runtime is app.state.runtime
    assert deps.database is app.state.runtime.database
    await deps.internal_api.aclose()
    await deps.database.dispose()


def test_without_its_own_key_notify_does_not_start(tmp_path: Path) -> None:
    """It could ask intake and feedback nothing (and would hash recipients with no key)."""
    with pytest.raises(NotConfigured, match="AUTH_SIGNING_KEY"):
        create_app(NotifySettings(database_url=f"sqlite+aiosqlite:///{tmp_path}/notify.db"))


def test_the_recipient_hash_key_is_its_own_setting_or_derived_from_notifys_key(
    identity: DevIdentity,
) -> None:
    own = recipient_hash_key(NotifySettings(**_keys(identity)))
    again = recipient_hash_key(NotifySettings(**_keys(identity)))
    assert own == again  # stable across restarts with the same key
    assert len(own) == 32
    private = identity.services["notify"].private_key.private_bytes_raw()
    assert private not in own
    # Another key (say routing's, or a rotated one): another hash key.
    assert recipient_hash_key(NotifySettings(**_keys(identity, "routing"))) != own
    # Public keys alone are no key: notify refuses rather than hash with a guessable one.
    with pytest.raises(NotConfigured, match="NOTIFY_RECIPIENT_HASH_KEY"):
        recipient_hash_key(NotifySettings(auth_jwks=identity.jwks()))
    explicit = "recipient-hash-key-for-tests-0123456789abcdef"
    assert recipient_hash_key(NotifySettings(notify_recipient_hash_key=explicit)) == (
        explicit.encode()
    )


async def test_the_consumer_skips_events_nobody_wants_once_it_knows_the_subscriptions(
    build_deps: Callable[..., Dependencies],
) -> None:
    from complaint_contracts import topics
    from complaint_contracts.events import ComplaintReceived, SlaClockPaused
    from complaint_contracts.examples import example_for
    from complaint_runtime.database import Base
    from complaint_runtime.testing import envelope_of, record_of

    deps = build_deps()
    async with deps.database.engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    wants = messaging.wants(deps)
    paused = envelope_of(record_of(example_for(SlaClockPaused), topics.SLA))
    received = envelope_of(record_of(example_for(ComplaintReceived), topics.INTAKE))
    assert wants(received)  # notify acts on it itself
    assert wants(paused)  # subscriptions not read yet: the fan-out reads them
    assert deps.webhooks is not None
    async with deps.database.sessions() as session:
        assert await deps.webhooks.cache.wanting(session, "sla.clock_paused") == []
    assert not wants(paused)  # read: nobody subscribes, so it is not applied at all
    assert wants(received)
    deps.webhooks.cache.invalidate()  # a subscription changed in this process
    assert wants(paused)
