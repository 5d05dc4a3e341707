"""The complaint's timeline as its customer reads it: the steps of their complaint in plain
words, what staff told and asked them (signed), what they wrote themselves, oldest first.

Built from the customer's view of the history (:mod:`intake.projection.domain.visibility`
already left out the internals and kept the texts meant for them). Steps that mean nothing
to a customer (triage, a change of category, the automatic closure that a ``closed``
step repeats) are left out; an event type the page does not know is left out too, rather
than shown by its technical name.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from complaint_contracts.base import TYPE_PREFIX

Speaker = Literal["agent", "customer", "system"]
# event name (between the prefix and the version) → the step's words (``step.<key>``)
_STEPS: Final[dict[str, str]] = {
    "complaint.received": "received",
    "complaint.assigned": "assigned",
    "complaint.first_response_sent": "first_response",
    "complaint.agent_replied": "reply",
    "complaint.awaiting_customer": "question",
    "complaint.customer_message_received": "customer_message",
    "complaint.resumed": "resumed",
    "complaint.resolved": "resolved",
    "complaint.confirmation_requested": "confirmation_requested",
    "complaint.confirmed": "confirmed",
    "complaint.reopened": "reopened",
    "complaint.closed": "closed",
    "complaint.withdrawn": "withdrawn",
    "complaint.duplicate_linked": "duplicate",
}
_AGENT_TEXT: Final = {"first_response": "message", "reply": "message", "question": "question"}


@dataclass(frozen=True)
class Step:
    """One step of the customer's view of the history."""

    event_type: str
    time: datetime
    data: Mapping[str, Any]


@dataclass(frozen=True)
class Entry:
    """A line of the timeline: ``step.<key>``, by ``speaker``, with its ``text`` (an
    agent's or the customer's words), ``signature`` and ``reference`` (a duplicate's)."""

    key: str
    time: datetime
    speaker: Speaker = "system"
    text: str | None = None
    signature: str | None = None
    reference: str | None = None


def event_name(event_type: str) -> str:
    """``org.opencomplaints.complaint.received.v1`` → ``complaint.received``."""
    name = event_type.removeprefix(f"{TYPE_PREFIX}.")
    head, _, version = name.rpartition(".")
    return head if version.startswith("v") and head else name


def timeline(steps: Iterable[Step], customer_texts: Sequence[str]) -> list[Entry]:
    """The entries, oldest first. ``customer_texts``: the customer's messages in the order
    they were received; each ``customer_message_received`` step takes the next one."""
    texts: Iterator[str] = iter(customer_texts)
    entries: list[Entry] = []
    withdrawn = False
    for step in steps:
        key = _STEPS.get(event_name(step.event_type))
        if key is None or (key == "closed" and withdrawn):
            continue
        withdrawn = withdrawn or key == "withdrawn"
        entries.append(_entry(key, step, texts))
    return entries


def _entry(key: str, step: Step, texts: Iterator[str]) -> Entry:
    data = step.data
    if key in _AGENT_TEXT:
        text = data.get(_AGENT_TEXT[key])
        signature = data.get("agent_name")
        shown = key if text or key == "question" else f"{key}_no_text"
        return Entry(
            shown,
            step.time,
            "agent",
            text=str(text) if text else None,
            signature=str(signature) if signature else None,
        )
    if key == "customer_message":
        return Entry(key, step.time, "customer", text=next(texts, None))
    if key == "withdrawn":
        reason = data.get("reason")
        return Entry(key, step.time, "customer", text=str(reason) if reason else None)
    if key == "duplicate":
        reference = data.get("duplicate_of_reference")
        return Entry(key, step.time, reference=str(reference) if reference else None)
    return Entry(key, step.time)


def latest_from_us(entries: Sequence[Entry]) -> Entry | None:
    """What staff said last with words (an answer or a question), while the customer has
    not written since: the page shows it first, it is what they came to read."""
    for entry in reversed(entries):
        if entry.speaker == "customer":
            return None
        if entry.speaker == "agent":
            return entry if entry.text else None
    return None


def open_question(entries: Sequence[Entry]) -> str | None:
    """The agent's latest question, while it is the latest thing said to the customer."""
    for entry in reversed(entries):
        if entry.speaker == "agent":
            return entry.text if entry.key == "question" else None
    return None
