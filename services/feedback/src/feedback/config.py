"""Feedback's settings: the shared ones plus the survey link, the closed-loop timings
(auto-close, the one reminder, the contact wait), the customer pages (time zone, rate
limits) and the NPS programme (schedule, sample, seed, answer window)."""

from __future__ import annotations

from complaint_contracts.vocabulary import PreferredChannel
from complaint_customer_web.times import is_zone_name
from complaint_runtime.keys import check_secret
from complaint_runtime.settings import ServiceSettings
from pydantic import Field, field_validator

from feedback.domain.closed_loop import ClosedLoopSettings
from feedback.nps.domain.periods import parse_schedule
from feedback.nps.domain.settings import NpsSettings


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

    @field_validator("feedback_link_secret")
    @classmethod
    def _strong_feedback_link_secret(cls, value: str) -> str:
        return check_secret("FEEDBACK_LINK_SECRET", value) if value else value

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

    organisation_timezone: str = Field(
        "Asia/Shanghai",
        description=(
            "ORGANISATION_TIMEZONE: the IANA zone of the survey pages' times and of the NPS "
            "programme's calendar months"
        ),
    )
    rate_limit_storage_uri: str = Field(
        "async+memory://",
        description=(
            "Where the survey and NPS pages' rate limits count (the `limits` library's "
            "storage). Memory counts per process, so each replica allows the limits on its "
            "own; async+redis://host:6379 shares them"
        ),
    )
    feedback_page_rate_limits: dict[str, str] = Field(
        default_factory=dict,
        description=(
            'FEEDBACK_PAGE_RATE_LIMITS: overrides of the pages\' limits, e.g. {"answer.link": '
            '"5/hour"} (keys: <action>.<link|client>, actions open, view, answer, opt_out; '
            "see feedback.pages.domain.throttling)"
        ),
    )
    nps_schedule: str = Field(
        "monthly",
        description=(
            "NPS_SCHEDULE: monthly (calendar months in ORGANISATION_TIMEZONE), a fixed length "
            "counted from the Unix epoch (30s, 15m, 12h, 7d: development and tests), or off "
            "(rounds only when an operator asks: POST /internal/v1/nps/rounds)"
        ),
    )
    nps_sample_percent: float = Field(
        30.0,
        ge=0,
        le=100,
        description=(
            "NPS_SAMPLE_PERCENT: the share of the period's customers (with a complaint closed "
            "in it, not opted out) asked, drawn reproducibly with NPS_SAMPLE_SEED"
        ),
    )
    nps_sample_seed: str = Field(
        "opencomplaints-nps-v1",
        min_length=1,
        description=(
            "NPS_SAMPLE_SEED: the key of the sample's hash (period, customer); the same seed "
            "gives the same sample, a new one draws everybody afresh"
        ),
    )
    nps_answer_days: float = Field(
        14.0, gt=0, description="NPS_ANSWER_DAYS: how long an NPS link takes an answer"
    )
    nps_round_delay_s: float = Field(
        3600.0,
        ge=0,
        description=(
            "NPS_ROUND_DELAY_S: a period's round starts this long after the period ended, so "
            "closures consumed a little late still count in it"
        ),
    )
    nps_tick_s: float = Field(
        60.0, gt=0, description="NPS_TICK_S: how often the NPS loop looks for a round to run"
    )
    nps_batch: int = Field(
        500, ge=1, le=10_000, description="NPS_BATCH: customers considered per transaction"
    )

    @field_validator("organisation_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if not is_zone_name(value):
            raise ValueError(f"{value!r} is not an IANA time zone, e.g. Asia/Shanghai")
        return value

    @field_validator("nps_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        parse_schedule(value)
        return value

    def nps_settings(self) -> NpsSettings:
        return NpsSettings(
            schedule=parse_schedule(self.nps_schedule),
            zone=self.organisation_timezone,
            sample_percent=self.nps_sample_percent,
            seed=self.nps_sample_seed,
            answer_s=self.nps_answer_days * 86_400,
            round_delay_s=self.nps_round_delay_s,
            batch_size=self.nps_batch,
        )

    def loop_settings(self) -> ClosedLoopSettings:
        return ClosedLoopSettings(
            auto_close_s=self.feedback_auto_close_s,
            reopen_csat_max=self.feedback_reopen_csat_max,
            default_channel=self.feedback_default_channel,
            contact_wait_s=self.feedback_contact_wait_s,
            reminder_after_s=self.feedback_reminder_after_h * 3600,
        )
