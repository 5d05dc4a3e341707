"""What the fake receivers check: each vendor's documented request shape and signature.

Pure functions (no I/O), written from the vendors' documentation independently of notify's
senders, so a fake that accepts a request is evidence that notify follows the documents,
not that it agrees with itself:

- Alibaba Cloud ``SendSms`` (RPC, signature version 1.0): percent-encode every parameter but
  ``Signature`` (RFC 3986 unreserved bytes kept, others ``%XX`` upper case), sort by name, join
  ``k=v`` with ``&``; ``StringToSign = METHOD&%2F&percentEncode(that)``; the signature is
  Base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign)).
- DingTalk custom robot (加签): ``sign = Base64(HMAC-SHA256(key=secret,
  msg=f"{timestamp_ms}\\n{secret}"))``, ``timestamp`` within an hour of now.
- Feishu custom bot (签名校验): ``sign = Base64(HMAC-SHA256(key=f"{timestamp_s}\\n{secret}",
  msg=b""))`` in the body, ``timestamp`` within an hour of now.
- Standard Webhooks: ``v1,`` + Base64(HMAC-SHA256(key=base64-decoded whsec_ secret,
  f"{webhook-id}.{webhook-timestamp}.{body}")``; any of the space-separated signatures may
  match; the timestamp within five minutes of now.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

UNRESERVED: Final = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
ONE_HOUR_S: Final = 3600
WEBHOOK_TOLERANCE_S: Final = 300
WECOM_CONTENT_LIMIT: Final = 4096
MAX_TEXT: Final = 4096  # of a robot message's text, recorded (staff notices hold no contact)
_TIMESTAMP: Final = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
SMS_REQUIRED: Final = (
    "AccessKeyId",
    "Action",
    "Format",
    "SignatureMethod",
    "SignatureNonce",
    "SignatureVersion",
    "Timestamp",
    "Version",
    "PhoneNumbers",
    "SignName",
    "TemplateCode",
    "Signature",
)


@dataclass(frozen=True)
class Verdict:
    """A fake's judgement of one request: ``error`` is None when it is well-formed and
    correctly signed; ``answer`` is what the vendor would answer for that error."""

    error: str | None
    answer: dict[str, Any]
    facts: dict[str, Any] = field(default_factory=dict)


def mask_phone(number: str) -> str:
    """``13812345678`` → ``138****5678``: a fake records no raw number."""
    digits = number.strip()
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 8 else "****"


def percent_encode(text: str) -> str:
    return "".join(
        chr(byte) if byte in UNRESERVED else f"%{byte:02X}" for byte in text.encode("utf-8")
    )


def aliyun_signature(method: str, params: Mapping[str, str], secret: str) -> str:
    """Alibaba Cloud's RPC signature (version 1.0) of ``params`` (``Signature`` left out)."""
    query = "&".join(
        f"{percent_encode(k)}={percent_encode(params[k])}"
        for k in sorted(params)
        if k != "Signature"
    )
    to_sign = f"{method.upper()}&{percent_encode('/')}&{percent_encode(query)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _sms_error(code: str, message: str) -> Verdict:
    return Verdict(code, {"Code": code, "Message": message, "RequestId": "fake"})


def check_send_sms(
    method: str, params: Mapping[str, str], *, access_key_id: str, access_key_secret: str
) -> Verdict:
    """A ``SendSms`` request's parameters against the API's documented shape and signature."""
    missing = [name for name in SMS_REQUIRED if not params.get(name)]
    if missing:
        return _sms_error("MissingParameter", f"missing {', '.join(missing)}")
    if params["Action"] != "SendSms" or params["Version"] != "2017-05-25":
        return _sms_error("InvalidAction.NotFound", "Action/Version")
    if params["SignatureMethod"] != "HMAC-SHA1" or params["SignatureVersion"] != "1.0":
        return _sms_error("InvalidSignatureMethod", "HMAC-SHA1 1.0 expected")
    if not _TIMESTAMP.fullmatch(params["Timestamp"]):
        return _sms_error("InvalidTimeStamp.Format", "YYYY-MM-DDThh:mm:ssZ expected")
    if params["AccessKeyId"] != access_key_id:
        return _sms_error("InvalidAccessKeyId.NotFound", "unknown AccessKeyId")
    expected = aliyun_signature(method, params, access_key_secret)
    if not hmac.compare_digest(expected, params["Signature"]):
        return _sms_error("SignatureDoesNotMatch", "the signature does not match")
    numbers = params["PhoneNumbers"].split(",")
    if not all(n.isdigit() and 8 <= len(n) <= 15 for n in numbers):
        return _sms_error("isv.MOBILE_NUMBER_ILLEGAL", "not a mobile number")
    template_params: Any = {}
    if params.get("TemplateParam"):
        try:
            template_params = json.loads(params["TemplateParam"])
        except ValueError:
            template_params = None
        if not isinstance(template_params, dict):
            return _sms_error("isv.INVALID_JSON_PARAM", "TemplateParam is not a JSON object")
    facts = {
        "phones": [mask_phone(n) for n in numbers],
        "sign_name": params["SignName"],
        "template_code": params["TemplateCode"],
        "template_param": template_params,
        "out_id": params.get("OutId"),
        "nonce": params["SignatureNonce"],
    }
    return Verdict(None, {"Code": "OK", "Message": "OK"}, facts)


def dingtalk_sign(secret: str, timestamp_ms: str) -> str:
    message = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def feishu_sign(secret: str, timestamp_s: str) -> str:
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def _within(timestamp: str, now_s: float, tolerance_s: float, *, scale: float = 1.0) -> bool:
    return timestamp.isdigit() and abs(int(timestamp) / scale - now_s) <= tolerance_s


def _ding_error(code: int, message: str) -> Verdict:
    return Verdict(message, {"errcode": code, "errmsg": message})


def check_dingtalk(
    query: Mapping[str, str], body: Any, *, secret: str | None, now_s: float
) -> Verdict:
    """A DingTalk custom robot's request: ``access_token``, the 加签 ``timestamp``/``sign``
    when the robot has a ``secret``, and a ``text`` or ``markdown`` message."""
    if not query.get("access_token"):
        return _ding_error(300001, "token is not exist")
    signed: bool | None = None
    if secret is not None:
        timestamp, sign = query.get("timestamp", ""), query.get("sign", "")
        if not _within(timestamp, now_s, ONE_HOUR_S, scale=1000):
            return _ding_error(310000, "invalid timestamp")
        if not hmac.compare_digest(dingtalk_sign(secret, timestamp), sign):
            return _ding_error(310000, "sign not match")
        signed = True
    if not isinstance(body, dict):
        return _ding_error(40035, "the body is not a JSON object")
    kind = body.get("msgtype")
    part = body.get(kind) if isinstance(kind, str) else None
    if kind == "markdown" and isinstance(part, dict):
        title, text = part.get("title"), part.get("text")
        if isinstance(title, str) and title and isinstance(text, str) and text:
            facts = {"title": title, "text": text[:MAX_TEXT], "signed": signed}
            return Verdict(None, {"errcode": 0, "errmsg": "ok"}, facts)
    if kind == "text" and isinstance(part, dict) and isinstance(part.get("content"), str):
        text = part["content"]
        facts = {"title": text.split("\n")[0], "text": text[:MAX_TEXT], "signed": signed}
        return Verdict(None, {"errcode": 0, "errmsg": "ok"}, facts)
    return _ding_error(40035, "missing or malformed message")


def check_wecom(query: Mapping[str, str], body: Any, *, key: str | None) -> Verdict:
    """A WeCom group robot's request: its ``key`` and a ``text`` or ``markdown`` message
    (markdown content at most 4096 bytes)."""
    if not query.get("key") or (key is not None and query["key"] != key):
        return Verdict("invalid webhook url", {"errcode": 93000, "errmsg": "invalid webhook url"})
    kind = body.get("msgtype") if isinstance(body, dict) else None
    part = body.get(kind) if isinstance(body, dict) and isinstance(kind, str) else None
    content = part.get("content") if isinstance(part, dict) else None
    if kind not in ("markdown", "text") or not isinstance(content, str) or not content:
        return Verdict("missing content", {"errcode": 40008, "errmsg": "invalid message type"})
    if len(content.encode()) > WECOM_CONTENT_LIMIT:
        return Verdict(
            "content too long", {"errcode": 40058, "errmsg": "content exceed max length"}
        )
    heading = next((ln[3:] for ln in content.split("\n") if ln.startswith("## ")), None)
    title = heading or content.split("\n")[0]
    facts = {"title": title, "text": content[:MAX_TEXT], "signed": None}
    return Verdict(None, {"errcode": 0, "errmsg": "ok"}, facts)


def _feishu_error(code: int, message: str) -> Verdict:
    return Verdict(message, {"code": code, "data": {}, "msg": message})


def check_feishu(token: str, body: Any, *, secret: str | None, now_s: float) -> Verdict:
    """A Feishu custom bot's request: the hook token, the body's ``timestamp``/``sign`` when
    the bot has a ``secret``, and an ``interactive`` card or a ``text`` message."""
    if not token:
        return _feishu_error(19001, "param invalid: incoming webhook access token invalid")
    if not isinstance(body, dict):
        return _feishu_error(9499, "Bad Request")
    signed: bool | None = None
    if secret is not None:
        timestamp, sign = str(body.get("timestamp", "")), str(body.get("sign", ""))
        if not _within(timestamp, now_s, ONE_HOUR_S) or not hmac.compare_digest(
            feishu_sign(secret, timestamp), sign
        ):
            return _feishu_error(19021, "sign match fail or timestamp is not within one hour")
        signed = True
    title: object = None
    text = ""
    if body.get("msg_type") == "interactive" and isinstance(body.get("card"), dict):
        header = body["card"].get("header")
        title = header.get("title", {}).get("content") if isinstance(header, dict) else None
        if not isinstance(body["card"].get("elements"), list):
            title = None
        text = json.dumps(body["card"], ensure_ascii=False)
    elif body.get("msg_type") == "text" and isinstance(body.get("content"), dict):
        content = body["content"].get("text")
        title = content.split("\n")[0] if isinstance(content, str) and content else None
        text = str(content)
    if not isinstance(title, str) or not title:
        return _feishu_error(9499, "Bad Request: missing or malformed message")
    facts = {"title": title, "text": text[:MAX_TEXT], "signed": signed}
    return Verdict(None, {"code": 0, "data": {}, "msg": "success"}, facts)


def verify_standard_webhook(
    secret: str, headers: Mapping[str, str], body: bytes, *, now_s: float
) -> str | None:
    """None when the Standard Webhooks headers sign ``body`` with ``secret``; else why not."""
    msg_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not msg_id or not timestamp or not signatures:
        return "missing webhook-id, webhook-timestamp or webhook-signature"
    if not _within(timestamp, now_s, WEBHOOK_TOLERANCE_S):
        return "timestamp outside the tolerance"
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        return "the configured secret is not whsec_<base64>"
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for candidate in signatures.split(" "):
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return None
    return "no signature matches"
