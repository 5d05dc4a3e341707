"""Feedback's settings: the shared ones plus the survey link and the closed-loop timings
(auto-close, the one reminder, the contact wait)."""

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
    feedback_reminder_after_h: float = Field(
        24.0,
        gt=0,
        description=(
            "FEEDBACK_REMINDER_AFTER_H: an unanswered confirmation request is reminded once, "
            "this many hours (a fraction is fine) after it was sent; none when the request "
            "expires first (FEEDBACK_AUTO_CLOSE_S) or no channel reaches the customer"
        ),
    )
    feedback_reopen_csat_max: int = Field(
        2, ge=0, le=5, description="A 'solved' answer with CSAT at or below this reopens"
    )
    feedback_tick_s: float = Field(
        1.0, gt=0, description="Period of the auto-close loop (auto-close, reminders)"
    )
    feedback_auto_close_batch: int = Field(
        200, ge=1, le=10_000, description="Requests auto-closed (or reminded) per transaction"
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
            reminder_after_s=self.feedback_reminder_after_h * 3600,
        )
