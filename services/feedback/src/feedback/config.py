"""Feedback's settings: the shared ones plus the survey link and the closed-loop timings."""

from __future__ import annotations

from complaint_contracts.vocabulary import PreferredChannel
from complaint_runtime.settings import ServiceSettings
from pydantic import Field

from feedback.domain.closed_loop import ClosedLoopSettings


class FeedbackSettings(ServiceSettings):
    service_name: str = "feedback"
    database_url: str = "sqlite+aiosqlite:///./.run/feedback.db"
    feedback_link_secret: str = Field(
        "",
        description=(
            "HS256 secret signing survey links; empty: a random one per process (development "
            "only: links die with the process and differ between replicas)"
        ),
    )
    public_base_url: str = Field(
        "http://127.0.0.1:8004", description="Base of the survey links given to customers"
    )
    feedback_auto_close_s: float = Field(
        604_800.0, gt=0, description="Unanswered confirmation requests auto-close after this"
    )
    feedback_reopen_csat_max: int = Field(
        2, ge=0, le=5, description="A 'solved' answer with CSAT at or below this reopens"
    )
    feedback_tick_s: float = Field(1.0, gt=0, description="Period of the auto-close loop")
    feedback_auto_close_batch: int = Field(
        200, ge=1, le=10_000, description="Requests auto-closed per transaction"
    )
    feedback_contact_wait_s: float = Field(
        300.0,
        ge=0,
        description=(
            "How long a resolution waits for its complaint.received (reference, channel, "
            "language) before the request is sent with defaults"
        ),
    )
    feedback_default_channel: PreferredChannel = Field(
        "email", description="Channel used when the complaint's preferred channel is unknown"
    )

    def loop_settings(self) -> ClosedLoopSettings:
        return ClosedLoopSettings(
            auto_close_s=self.feedback_auto_close_s,
            reopen_csat_max=self.feedback_reopen_csat_max,
            default_channel=self.feedback_default_channel,
            contact_wait_s=self.feedback_contact_wait_s,
        )
