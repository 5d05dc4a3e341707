"""Pure rules of subscriptions (event filters, the structured CloudEvent), secrets sealed at
rest, and the fan-out's agreement with what notify consumes."""

from __future__ import annotations

import json
import secrets

import pytest
from complaint_contracts import topics
from complaint_contracts.events import EVENTS_BY_TOPIC, SlaBreached
from complaint_contracts.examples import example_for
from complaint_runtime.dev_identity import DevIdentity
from complaint_runtime.testing import envelope_of, record_of
from notify import messaging
from notify.config import NotifySettings
from notify.webhooks.domain.signing import generate_secret
from notify.webhooks.domain.subscriptions import (
    EventFilterError,
    body_bytes,
    matches,
    normalise_filters,
    structured_event,
)
from notify.webhooks.sealing import Sealer, SealError, sealing_key
from notify.webhooks.service import KNOWN_EVENTS, SUBSCRIBABLE_TOPICS

KNOWN = frozenset({"complaint.assigned", "sla.breached"})


def test_filters_are_stored_short_distinct_and_known() -> None:
    names = ["org.opencomplaints.complaint.assigned.v1", "complaint.assigned", "sla.breached"]
    assert normalise_filters(names, known=KNOWN) == ["complaint.assigned", "sla.breached"]
    assert normalise_filters(["*"], known=KNOWN) == ["*"]
    for bad in ([], ["*", "sla.breached"], ["sla.breach"], ["x"] * 65):
        with pytest.raises(EventFilterError):
            normalise_filters(bad, known=KNOWN)
    assert matches(["*"], "anything")
    assert matches(["sla.breached"], "sla.breached")
    assert not matches(["sla.breached"], "complaint.assigned")


def test_every_consumed_event_can_be_subscribed_to() -> None:
    assert SUBSCRIBABLE_TOPICS == messaging.CONSUMED
    consumed = {m.event_name for t in messaging.CONSUMED for m in EVENTS_BY_TOPIC[t.name]}
    assert consumed == KNOWN_EVENTS


def test_the_payload_is_the_record_in_structured_mode() -> None:
    """Attribute for attribute the record's ce_* headers, data byte for byte its value."""
    record = record_of(example_for(SlaBreached), topics.SLA)
    event = structured_event(envelope_of(record))
    headers = {name: value.decode() for name, value in record.headers}
    for name, value in headers.items():
        attribute = "datacontenttype" if name == "content-type" else name.removeprefix("ce_")
        assert event[attribute] == value, name
    assert set(event) == {
        "specversion", "id", "source", "type", "subject", "time", "datacontenttype",
        "dataschema", "correlationid", "data",
    } | ({"causationid"} if "ce_causationid" in headers else set())  # fmt: skip
    assert json.dumps(event["data"]).encode() == record.value
    assert body_bytes(event) == body_bytes(json.loads(body_bytes(event)))  # stable bytes


def _settings(identity: DevIdentity, **values: str) -> NotifySettings:
    return NotifySettings(**{k.lower(): v for k, v in identity.env("notify").items()}, **values)


def test_sealed_secrets_open_only_with_their_key_and_row(identity: DevIdentity) -> None:
    sealer = Sealer(sealing_key(_settings(identity)))
    secret = generate_secret()
    sealed = sealer.seal(secret, subscription_id="a")
    assert str(secret) not in sealed
    assert sealed.startswith("v1.")
    assert sealer.open(sealed, subscription_id="a") == secret
    with pytest.raises(SealError):
        sealer.open(sealed, subscription_id="b")  # copied onto another row
    other = Sealer(
        sealing_key(_settings(identity, notify_webhook_secret_key=secrets.token_urlsafe(32)))
    )
    with pytest.raises(SealError):
        other.open(sealed, subscription_id="a")
