"""Notify's settings (environment variables, no prefix; every one has a default)."""

from __future__ import annotations

import ipaddress
from typing import Literal

from complaint_runtime.keys import check_secret
from complaint_runtime.settings import ServiceSettings
from pydantic import Field, SecretStr, field_validator, model_validator

from notify.messages.domain.channel_choice import parse_order
from notify.messages.domain.quiet_hours import parse_quiet_hours


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

    notify_retry_window_s: float = Field(
        86400.0,
        gt=0,
        description=(
            "A send that failed in a way worth retrying (SMTP 4xx, a provider's rate limit, a "
            "connection refused) is tried again, with exponential back-off and full jitter, "
            "until this long after its first attempt; a failure after that is final"
        ),
    )
    notify_retry_backoff_s: float = Field(
        60.0, gt=0, description="Ceiling of the first retry's jittered delay (doubles)"
    )
    notify_retry_backoff_max_s: float = Field(1800.0, gt=0, description="Cap of the retry delay")
    notify_dependency_retry_max_s: float = Field(
        300.0,
        gt=0,
        description=(
            "The longest wait between looks while intake or feedback is unreachable: such a "
            "delivery waits for them, however long, and is never made final by it"
        ),
    )
    notify_channel_order: str = Field(
        "email,sms",
        description=(
            "Customer channels after the customer's preferred one, in order: used when the "
            "preferred channel is missing, has no adapter (wechat, app, chat, phone) or "
            "refused the message for good"
        ),
    )
    notify_quiet_hours: str = Field(
        "22:00-08:00",
        description=(
            "No non-urgent customer SMS in these local hours of the customer's time zone "
            "(held, sent when they end; P1 complaints and security notices go at once; "
            "e-mail and staff robots are not held); empty: off"
        ),
    )

    @field_validator("notify_channel_order")
    @classmethod
    def _known_channels(cls, value: str) -> str:
        parse_order(value)
        return value

    @field_validator("notify_quiet_hours")
    @classmethod
    def _quiet_hours_span(cls, value: str) -> str:
        parse_quiet_hours(value)
        return value

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

    # --- SMS (issue 15, notify.sms): the provider, its credentials and templates, and the
    # token its callbacks carry. Checked at start: "aliyun" without a key, sign name or
    # templates would fail every SMS at send time instead.
    notify_sms_provider: Literal["none", "aliyun"] = Field(
        "none",
        description="NOTIFY_SMS_PROVIDER: none (no SMS channel) or aliyun (Alibaba Cloud SendSms)",
    )
    notify_sms_endpoint: str = Field(
        "https://dysmsapi.aliyuncs.com/",
        description="NOTIFY_SMS_ENDPOINT: the provider's API endpoint (http(s))",
    )
    notify_sms_access_key_id: str = Field("", description="NOTIFY_SMS_ACCESS_KEY_ID")
    notify_sms_access_key_secret: str = Field(
        "", description="NOTIFY_SMS_ACCESS_KEY_SECRET (a secret: never logged)"
    )
    notify_sms_sign_name: str = Field(
        "", description="NOTIFY_SMS_SIGN_NAME: the approved signature (签名), without 【】"
    )
    notify_sms_templates: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "NOTIFY_SMS_TEMPLATES: JSON {our template name: provider template code}, e.g. "
            '{"acknowledgement": "SMS_100001"}; a template without a code is not sent by SMS '
            "(a final failure: the next channel is tried)"
        ),
    )
    notify_sms_timeout_s: float = Field(
        10.0, gt=0, le=60, description="NOTIFY_SMS_TIMEOUT_S: bound of each call to the provider"
    )
    notify_sms_max_parts: int = Field(
        6,
        ge=1,
        le=8,
        description=(
            "NOTIFY_SMS_MAX_PARTS: a text the provider would bill as more parts than this is "
            "refused (a final failure) instead of sent; 6 lets the survey and NPS "
            "invitations through (feedback's signed links are ~310 characters: 6 parts)"
        ),
    )
    notify_sms_callback_token: str = Field(
        "",
        description=(
            "NOTIFY_SMS_CALLBACK_TOKEN: the secret the provider's callback URLs carry "
            "(?token=...): delivery receipts (POST /v1/sms/receipts) and inbound SMS; "
            "empty: callbacks are refused"
        ),
    )

    @field_validator("notify_sms_callback_token")
    @classmethod
    def _strong_notify_sms_callback_token(cls, value: str) -> str:
        return check_secret("NOTIFY_SMS_CALLBACK_TOKEN", value) if value else value

    @model_validator(mode="after")
    def _sms_provider_is_configured(self) -> NotifySettings:
        if self.notify_sms_provider == "none":
            return self
        missing = [
            name
            for name, value in (
                ("NOTIFY_SMS_ACCESS_KEY_ID", self.notify_sms_access_key_id),
                ("NOTIFY_SMS_ACCESS_KEY_SECRET", self.notify_sms_access_key_secret),
                ("NOTIFY_SMS_SIGN_NAME", self.notify_sms_sign_name),
                ("NOTIFY_SMS_TEMPLATES", self.notify_sms_templates),
            )
            if not value
        ]
        if missing:
            raise ValueError(
                f"NOTIFY_SMS_PROVIDER={self.notify_sms_provider} needs {', '.join(missing)}"
            )
        blank = sorted(k for k, v in self.notify_sms_templates.items() if not k or not v.strip())
        if blank:
            raise ValueError(f"NOTIFY_SMS_TEMPLATES has an empty code for {blank}")
        if not self.notify_sms_endpoint.startswith(("http://", "https://")):
            raise ValueError("NOTIFY_SMS_ENDPOINT must be an http(s) URL")
        return self

    # --- Replies (issue 15, notify.replies and notify.suppressions): the reply address per
    # complaint, the inbound SMTP endpoint that receives replies and bounces, and the base
    # URL of the unsubscribe link. Everything is off by default.
    notify_reply_domain: str = Field(
        "",
        description=(
            "NOTIFY_REPLY_DOMAIN: the mail domain of reply addresses "
            "(reply+<complaint>.<tag>@domain) and of the bounce address (bounces@domain); "
            "empty: notifications carry no Reply-To"
        ),
    )
    notify_reply_key: str = Field(
        "",
        description=(
            "NOTIFY_REPLY_KEY: HMAC key of reply-address tags and unsubscribe tokens; empty: "
            "derived from notify's own AUTH_SIGNING_KEY"
        ),
    )

    @field_validator("notify_reply_key")
    @classmethod
    def _strong_notify_reply_key(cls, value: str) -> str:
        return check_secret("NOTIFY_REPLY_KEY", value) if value else value

    notify_reply_smtp_host: str = Field(
        "127.0.0.1", description="NOTIFY_REPLY_SMTP_HOST: where the inbound SMTP endpoint listens"
    )
    notify_reply_smtp_port: int = Field(
        0, ge=0, le=65535, description="NOTIFY_REPLY_SMTP_PORT: its port; 0: no SMTP endpoint"
    )
    notify_reply_max_bytes: int = Field(
        512 * 1024,
        ge=1024,
        le=25 * 1024 * 1024,
        description="NOTIFY_REPLY_MAX_BYTES: a larger inbound message is refused (552)",
    )
    notify_public_url: str = Field(
        "",
        description=(
            "NOTIFY_PUBLIC_URL: notify's public base URL, for the unsubscribe link of "
            "non-transactional e-mail (List-Unsubscribe); empty: no link"
        ),
    )
    notify_reply_forward_interval_s: float = Field(
        2.0,
        gt=0,
        description=(
            "NOTIFY_REPLY_FORWARD_INTERVAL_S: how often stored replies are offered to intake; "
            "while intake is down each reply waits with back-off (never dropped)"
        ),
    )
    notify_reply_forward_backoff_max_s: float = Field(
        300.0, gt=0, description="NOTIFY_REPLY_FORWARD_BACKOFF_MAX_S: cap of that back-off"
    )

    # --- Robots (issue 15, notify.robots): staff notices to each team's group-chat robot.
    # Parsed and checked at start-up by notify.robots.sender.load_robots (a bad entry stops
    # notify, naming the team and field); a SecretStr because the URLs hold the robots' keys.
    notify_robots: SecretStr = Field(
        SecretStr(""),
        description=(
            "NOTIFY_ROBOTS: inline JSON, or the path of a JSON file, "
            '{"<team>" | "*": {"vendor": "wecom" | "dingtalk" | "feishu", "url": "<webhook '
            'URL>", "secret": "<signing secret (dingtalk, feishu), optional>"}}; "*" is the '
            "robot of teams without their own; https only (http to loopback hosts); "
            "empty: no robot channel"
        ),
    )
    notify_robot_timeout_s: float = Field(
        10.0,
        gt=0,
        le=60,
        description=(
            "NOTIFY_ROBOT_TIMEOUT_S: bound of each post to a robot (connect, send, answer); "
            "a timeout after the request went out is reported uncertain, never repeated"
        ),
    )

    # --- Webhooks (issue 15, notify.webhooks): outbound webhooks to the Standard Webhooks
    # spec; every duration may be short so tests can scale the retry window down.
    notify_webhook_timeout_s: float = Field(
        10.0, gt=0, le=120, description="NOTIFY_WEBHOOK_TIMEOUT_S: whole-request timeout"
    )
    notify_webhook_retry_base_s: float = Field(
        5.0, gt=0, description="NOTIFY_WEBHOOK_RETRY_BASE_S: first retry's jitter ceiling"
    )
    notify_webhook_retry_cap_s: float = Field(
        3600.0, gt=0, description="NOTIFY_WEBHOOK_RETRY_CAP_S: cap of the jitter ceiling"
    )
    notify_webhook_retry_window_s: float = Field(
        86400.0,
        gt=0,
        description="NOTIFY_WEBHOOK_RETRY_WINDOW_S: retries end this long after the first try",
    )
    notify_webhook_allowed_networks: str = Field(
        "",
        description=(
            "NOTIFY_WEBHOOK_ALLOWED_NETWORKS: comma-separated CIDRs webhooks may reach despite "
            'being private or loopback (e.g. "127.0.0.0/8,::1/128" for make up); empty: none'
        ),
    )
    notify_webhook_concurrency: int = Field(
        8, ge=1, le=64, description="NOTIFY_WEBHOOK_CONCURRENCY: webhooks sent at once"
    )
    notify_webhook_breaker_failures: int = Field(
        5, ge=1, description="NOTIFY_WEBHOOK_BREAKER_FAILURES: failures in a row that open it"
    )
    notify_webhook_breaker_cool_down_s: float = Field(
        60.0, gt=0, description="NOTIFY_WEBHOOK_BREAKER_COOL_DOWN_S: open before one probe"
    )
    notify_webhook_sending_lease_s: float = Field(
        300.0,
        gt=0,
        description=(
            "NOTIFY_WEBHOOK_SENDING_LEASE_S: a webhook left 'sending' by another process this "
            "long becomes 'uncertain' (never resent); must exceed NOTIFY_WEBHOOK_TIMEOUT_S"
        ),
    )
    notify_webhook_poll_interval_s: float = Field(
        1.0, gt=0, description="NOTIFY_WEBHOOK_POLL_INTERVAL_S: idle poll of the dispatcher"
    )
    notify_webhook_secret_key: str = Field(
        "",
        description=(
            "NOTIFY_WEBHOOK_SECRET_KEY: encrypts subscribers' signing secrets at rest; empty: "
            "derived from notify's own AUTH_SIGNING_KEY"
        ),
    )

    @field_validator("notify_webhook_secret_key")
    @classmethod
    def _strong_notify_webhook_secret_key(cls, value: str) -> str:
        return check_secret("NOTIFY_WEBHOOK_SECRET_KEY", value) if value else value

    @field_validator("notify_webhook_allowed_networks")
    @classmethod
    def _valid_webhook_networks(cls, value: str) -> str:
        for cidr in filter(None, (part.strip() for part in value.split(","))):
            ipaddress.ip_network(cidr, strict=False)  # a ValueError is a settings error
        return value
