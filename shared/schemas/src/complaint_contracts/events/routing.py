"""Events produced by routing on the routing topic: triage, assignment, case handling."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from complaint_contracts.base import EventData
from complaint_contracts.vocabulary import Category, EmotionLevel, Priority


class FiredRule(BaseModel):
    """One rule that contributed to a triage decision, so every decision is explainable."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: str = Field(examples=["category.billing_refund.keyword"])
    detail: str = Field("", examples=["matched '退款'"])


class ComplaintTriaged(EventData):
    """Routing classified the complaint and set its priority and emotion level."""

    event_name: ClassVar[str] = "complaint.triaged"

    complaint_id: str
    category: Category
    subcategory: str | None = None
    confidence: float = Field(ge=0.0, le=1.0)
    priority: Priority
    emotion: EmotionLevel
    rules_fired: tuple[FiredRule, ...] = ()


class ComplaintAssigned(EventData):
    """The complaint was given to a team and, when one is free, an agent."""

    event_name: ClassVar[str] = "complaint.assigned"

    complaint_id: str
    team: str
    assignee: str | None = None
    owner: str | None = Field(None, description="First-contact owner (首问负责制)")
    actor: str = Field(description="Who assigned: 'routing' or a user id")
    reason: str = ""
