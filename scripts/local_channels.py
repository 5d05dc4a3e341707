"""notify's outgoing channels in `make up`: settings pointing them at the fake receivers
(`complaint_devinfra.fake_receivers`), the webhook subscription to the fake, and `make outbox`,
which lists what the fakes recorded beside the development mail server's e-mails."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterable
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import Message
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

FAKES_PORT = 8030  # the fake SMS provider, robots and webhook receiver
DEV_SMS_SIGN_NAME = "投诉平台"
# Teams whose staff notices go to a DingTalk and a Feishu robot; every other team's to WeCom.
DINGTALK_TEAM = "billing"
FEISHU_TEAM = "quality"


def say(message: str) -> None:
    print(f"[platform] {message}", flush=True)


def header(value: str | None) -> str:
    """Headers as a person reads them (RFC 2047 encoded words decoded)."""
    return str(make_header(decode_header(value or "")))


def fake_receivers_env(notify_url: str, keys: dict[str, str]) -> dict[str, str]:
    """The fakes' credentials (the same the platform's notify holds) and notify's receipt
    callback, in the environment: command lines are visible to every user (`ps`)."""
    receipts = f"{notify_url}/v1/sms/receipts?token={keys['NOTIFY_SMS_CALLBACK_TOKEN']}"
    return {
        "FAKE_SMS_ACCESS_KEY_ID": keys["NOTIFY_SMS_ACCESS_KEY_ID"],
        "FAKE_SMS_ACCESS_KEY_SECRET": keys["NOTIFY_SMS_ACCESS_KEY_SECRET"],
        "FAKE_SMS_RECEIPT_URL": receipts,
        "FAKE_DINGTALK_SECRET": keys["DEV_DINGTALK_SECRET"],
        "FAKE_FEISHU_SECRET": keys["DEV_FEISHU_SECRET"],
    }


def notify_channel_settings(keys: dict[str, str]) -> dict[str, str]:
    """notify's SMS, robots and webhooks pointed at the fake receivers (development only:
    loopback webhook targets allowed, fake credentials from .run/secrets.env)."""
    from notify.messages.domain.planning import TEMPLATES

    fakes = keys["FAKES_URL"]
    robots = {
        "*": {"vendor": "wecom", "url": f"{fakes}/robots/wecom/send?key=dev"},
        DINGTALK_TEAM: {
            "vendor": "dingtalk",
            "url": f"{fakes}/robots/dingtalk/send?access_token=dev",
            "secret": keys["DEV_DINGTALK_SECRET"],
        },
        FEISHU_TEAM: {
            "vendor": "feishu",
            "url": f"{fakes}/robots/feishu/hook/dev",
            "secret": keys["DEV_FEISHU_SECRET"],
        },
    }
    return {
        "NOTIFY_SMS_PROVIDER": "aliyun",
        "NOTIFY_SMS_ENDPOINT": f"{fakes}/sms/",
        "NOTIFY_SMS_ACCESS_KEY_ID": keys["NOTIFY_SMS_ACCESS_KEY_ID"],
        "NOTIFY_SMS_ACCESS_KEY_SECRET": keys["NOTIFY_SMS_ACCESS_KEY_SECRET"],
        "NOTIFY_SMS_SIGN_NAME": DEV_SMS_SIGN_NAME,
        # Every template gets a fake provider code (SMS_0001, ...); staff templates never
        # go by SMS, but a complete table keeps the walk-through free of "no code" failures.
        "NOTIFY_SMS_TEMPLATES": json.dumps(
            {name: f"SMS_{n:04d}" for n, name in enumerate(TEMPLATES, start=1)}
        ),
        "NOTIFY_SMS_CALLBACK_TOKEN": keys["NOTIFY_SMS_CALLBACK_TOKEN"],
        "NOTIFY_ROBOTS": json.dumps(robots),
        "NOTIFY_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
    }


def subscribe_fake_webhook(notify_url: str, fakes_url: str, admin_token: str) -> None:
    """One webhook subscription (every event) to the fake receiver, which is told the
    signing secret so `make outbox` shows whether each signature verifies."""
    target = f"{fakes_url}/webhooks/dev"
    try:
        created = _post_json(
            f"{notify_url}/v1/webhooks",
            {"url": target, "events": ["*"]},
            {"Authorization": f"Bearer {admin_token}"},
        )
    except (OSError, ValueError) as exc:
        say(f"no webhook subscription made ({exc}); notify has no webhook API yet?")
        return
    _post_json(f"{fakes_url}/control", {"webhooks": {"dev": {"secret": created["secret"]}}}, {})
    say(f"webhook subscription {created['id']} → {target} (every event)")


def _post_json(url: str, body: object, headers: dict[str, str]) -> dict[str, object]:
    request = urllib.request.Request(  # noqa: S310 - the platform's own http://127.0.0.1
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", **headers},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        answer: dict[str, object] = json.loads(response.read())
    return answer


def outbox(run: Path, mails: Iterable[Message]) -> None:
    """Everything notify sent, newest last: e-mails, SMS (numbers masked), robot cards and
    webhooks (with whether their Standard Webhooks signature verified), one line each."""
    lines: list[tuple[datetime, str]] = []
    for message in mails:
        when = _mail_time(message["Date"])
        to, subject = header(message["To"]), header(message["Subject"])
        lines.append((when, f"mail     to {to}  {subject}"))
    for kind in ("sms", "sms_receipt", "robot", "webhook"):
        path = run / "outbox" / f"{kind}.jsonl"
        if not path.exists():
            continue
        for text in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(text)
            lines.append((datetime.fromisoformat(record["at"]), outbox_line(record)))
    if not lines:
        say(f"nothing sent yet ({run / 'mail'}, {run / 'outbox'})")
        return
    for when, line in sorted(lines, key=lambda pair: pair[0]):
        print(f"{when.astimezone().strftime('%H:%M:%S')}  {line}")


def outbox_line(record: dict[str, Any]) -> str:
    """One recorded request of the fake receivers as a line of `make outbox`."""
    kind = record["kind"]
    taken = "accepted" if record.get("accepted") else f"refused ({record.get('code') or ''})"
    if kind == "sms":
        phones = ",".join(str(p) for p in record.get("phones") or []) or "?"
        params = json.dumps(record.get("template_param") or {}, ensure_ascii=False)
        return f"sms      to {phones}  {record.get('template_code')} {params}  {taken}"
    if kind == "sms_receipt":
        return f"receipt  SMS {record.get('out_id')} → notify answered {record.get('status')}"
    if kind == "robot":
        signed = {True: "signature ok", None: "unsigned"}.get(record.get("signed"), "?")
        outcome = "accepted" if record.get("accepted") else f"refused ({record.get('error')})"
        return f"robot    {record.get('vendor')}  {record.get('title')!r}  {signed}  {outcome}"
    signature = {True: "signature ok", False: "signature BAD", None: "signature not checked"}
    headers = record.get("headers") or {}
    webhook_id = headers.get("webhook-id") if isinstance(headers, dict) else None
    return (
        f"webhook  {record.get('name')}  {record.get('event_type')}  id {webhook_id}  "
        f"{signature.get(record.get('signature_ok'), '?')}  HTTP {record.get('status')}"
    )


def _mail_time(value: str | None) -> datetime:
    try:
        return parsedate_to_datetime(value or "")
    except (TypeError, ValueError):
        return datetime.now(UTC)
