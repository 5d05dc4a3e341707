"""Every service's own secrets refuse a weak key at start, as the runtime's do
(complaint_runtime.keys)."""

from __future__ import annotations

import pytest


def test_every_services_own_secrets_are_checked_too() -> None:
    """The HMAC keys besides CUSTOMER_REF_KEY (tokens use asymmetric keys): survey links,
    console sessions, notify's recipient hashes (when set; empty means derived from the
    service's own signing key)."""
    from console.config import ConsoleSettings
    from feedback.config import FeedbackSettings
    from notify.config import NotifySettings
    from pydantic import ValidationError

    for settings, field in (
        (FeedbackSettings, "feedback_link_secret"),
        (ConsoleSettings, "console_session_secret"),
        (NotifySettings, "notify_recipient_hash_key"),
    ):
        with pytest.raises(ValidationError, match=field.upper()):
            settings(**{field: "short"})
        assert getattr(settings(**{field: ""}), field) == ""
        strong = "k3Y-9fQ2zL7pW4vR8tN1mB6cX0sD5gH3jA"
        assert getattr(settings(**{field: strong}), field) == strong
