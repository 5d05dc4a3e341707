"""Notify's settings (environment variables, no prefix; every one has a default)."""

from __future__ import annotations

from typing import Literal

from complaint_runtime.keys import check_secret
from complaint_runtime.settings import ServiceSettings
from pydantic import Field, field_validator


class NotifySettings(ServiceSettings):
    service_name: str = "notify"
    database_url: str = "sqlite+aiosqlite:///./.run/notify.db"

    intake_internal_url: str = Field(
        "http://127.0.0.1:8001", description="Base URL of intake's internal API (contacts)"
    )
    feedback_internal_url: str = Field(
        "http://127.0.0.1:8004", description="Base URL of feedback's internal API (survey links)"
    )
    internal_http_timeout_s: float = Field(5.0, description="Timeout of each internal API call")

    notify_channel: Literal["smtp", "log"] = Field(
        "smtp", description="smtp: send e-mail; log: only log a masked summary (no SMTP server)"
    )
    ack_wait_for_due_s: float = Field(
        30.0,
        ge=0,
        le=600,
        description=(
            "ACK_WAIT_FOR_DUE_S: the acknowledgement names the complaint's real first-response "
            "and resolution due times, which sla-watch arms about a second after receipt; "
            "while a complaint is younger than this and intake has no due time yet, it is "
            "tried again shortly (0.25 s to 2 s, not counted as an attempt); after it, or for "
            "a complaint that gets no clocks (a duplicate), it says 'as soon as possible'. "
            "0: never wait"
        ),
    )
    notify_staff_directory: str = Field(
        "",
        description=(
            "Staff directory: inline JSON, or the path of a JSON file, "
            '{"users": {id: {email, name, language}}, "team_leads": {team: user id}, '
            '"managers": {team: user id}, "escalation_group": [user id, ...]}; '
            "escalation level 1 tells the team lead, 2 the manager, 3 every group member"
        ),
    )
    notify_staff_case_url: str = Field(
        "http://127.0.0.1:8002/v1/cases/{complaint_id}",
        description=(
            "Link to a case in staff messages (escalations); {complaint_id} is replaced; "
            "empty: no link"
        ),
    )
    notify_default_staff_language: Literal["zh-CN", "en"] = "zh-CN"
    notify_display_timezone: str = Field(
        "Asia/Shanghai", description="Time zone of the times shown in messages"
    )
    notify_recipient_hash_key: str = Field(
        "",
        description=(
            "HMAC key of the recipient hash stored with a delivery; empty: derived from "
            "notify's own AUTH_SIGNING_KEY (one of the two is required)"
        ),
    )

    @field_validator("notify_recipient_hash_key")
    @classmethod
    def _strong_notify_recipient_hash_key(cls, value: str) -> str:
        return check_secret("NOTIFY_RECIPIENT_HASH_KEY", value) if value else value

    notify_max_attempts: int = Field(5, ge=1, description="Send attempts before final failure")
    notify_retry_backoff_s: float = Field(60.0, gt=0, description="First retry delay (doubles)")
    notify_retry_backoff_max_s: float = Field(1800.0, gt=0, description="Cap of the retry delay")
    notify_poll_interval_s: float = Field(0.2, gt=0, description="Idle poll interval")
    notify_batch_size: int = Field(50, ge=1, le=500, description="Deliveries claimed per round")
    notify_send_concurrency: int = Field(
        16,
        ge=1,
        le=64,
        description=(
            "Deliveries prepared and sent at once in a round (each waits on intake's contact "
            "look-up, two commits and the SMTP server: at 4, a platform at 20 complaints/s "
            "fell behind with notify's CPU a third used); also the SMTP connections kept"
        ),
    )
    notify_sending_lease_s: float = Field(
        300.0,
        ge=0,
        description=(
            "A delivery another process left in 'sending' longer than this is declared "
            "uncertain (that process crashed); must exceed one send's worst-case duration"
        ),
    )

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_from: str = Field("OpenComplaints <no-reply@opencomplaints.invalid>")
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = Field(False, description="Upgrade the connection with STARTTLS")
    smtp_timeout_s: float = Field(30.0, gt=0, description="Timeout of each SMTP command")
