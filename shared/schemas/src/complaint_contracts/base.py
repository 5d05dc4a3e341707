"""The base of every event data model: frozen, versioned, strict about unknown fields."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict

TYPE_PREFIX = "org.opencomplaints"
SCHEMA_BASE_URI = "https://schemas.opencomplaints.org/events"


class EventData(BaseModel):
    """Data of one CloudEvent. Subclasses set ``event_name`` and ``version``.

    ``event_name`` is the part of the CloudEvents type after the prefix, e.g.
    ``complaint.received``; the full type is ``org.opencomplaints.complaint.received.v1``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_name: ClassVar[str]
    version: ClassVar[int] = 1

    @classmethod
    def ce_type(cls) -> str:
        return f"{TYPE_PREFIX}.{cls.event_name}.v{cls.version}"

    @classmethod
    def schema_id(cls) -> str:
        """The ``$id`` of the JSON Schema of this data type, sent as ``ce_dataschema``."""
        return f"{SCHEMA_BASE_URI}/{cls.event_name}.v{cls.version}.json"

    @classmethod
    def schema_file_name(cls) -> str:
        return f"{cls.event_name}.v{cls.version}.json"
