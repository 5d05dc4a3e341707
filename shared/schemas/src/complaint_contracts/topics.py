"""Every Kafka topic of the platform, its single producing service and its partition count.

One producing service per topic: a consumer can trust ``ce_source`` and the topic agree.
Dead-letter topics are per consuming service, so they keep that rule too.
"""

from __future__ import annotations

from dataclasses import dataclass

# How long the broker keeps a record (``retention.ms``), the defaults of the services'
# KAFKA_EVENT_RETENTION_MS and KAFKA_DEAD_LETTER_RETENTION_MS. Events carry only masked texts,
# but those are personal data too: retention bounds how long they stay in Kafka after an
# erasure blanked them in every database (plus up to a segment's roll time: Kafka deletes
# whole segments). A week covers a consumer down over a long weekend (it resumes where it
# left off); dead letters wait a month for a person to look at them.
EVENT_RETENTION_MS = 7 * 24 * 3600 * 1000
DEAD_LETTER_RETENTION_MS = 30 * 24 * 3600 * 1000


@dataclass(frozen=True)
class Topic:
    name: str
    producer: str
    partitions: int
    description: str
    retention_ms: int = EVENT_RETENTION_MS


INTAKE = Topic(
    "complaints.intake.v1",
    "intake",
    6,
    "Complaints received and customer messages, as front ends posted them (contacts masked).",
)
ROUTING = Topic(
    "complaints.routing.v1",
    "routing",
    6,
    "Triage, assignment and case-handling transitions of the complaint state machine.",
)
SLA = Topic(
    "complaints.sla.v1",
    "sla-watch",
    6,
    "SLA clocks, warnings, breaches and escalations.",
)
FEEDBACK = Topic(
    "complaints.feedback.v1",
    "feedback",
    6,
    "Confirmation and satisfaction requests and the customers' answers.",
)
NOTIFY = Topic(
    "complaints.notify.v1",
    "notify",
    6,
    "Notification deliveries and failures.",
)

EVENT_TOPICS: tuple[Topic, ...] = (INTAKE, ROUTING, SLA, FEEDBACK, NOTIFY)
# Every consuming service (the console consumes, for its live read model, and produces nothing).
SERVICES: tuple[str, ...] = ("intake", "routing", "sla-watch", "feedback", "notify", "console")


def dead_letter_topic(consumer_service: str) -> Topic:
    """The dead-letter topic a consuming service writes its poison records to."""
    return Topic(
        f"complaints.dlq.{consumer_service}.v1",
        consumer_service,
        1,
        f"Records {consumer_service} could not process, with the error and origin in headers.",
        DEAD_LETTER_RETENTION_MS,
    )


def all_topics() -> tuple[Topic, ...]:
    return EVENT_TOPICS + tuple(dead_letter_topic(s) for s in SERVICES)


def topic_by_name(name: str) -> Topic:
    for topic in all_topics():
        if topic.name == name:
            return topic
    raise KeyError(name)
