"""Where a rendered message goes: e-mail over SMTP, or only a masked log line.

The SMTP conversation is driven step by step so that a failure can be told apart by where
it happened. Before the message's DATA went out, nothing was delivered: a 4xx or a refused
connection is retried, a 5xx is final. A 4xx/5xx *answer* to DATA is still a clear "not
accepted". But a connection lost or timed out while DATA is in flight leaves the outcome
unknown, and resending could deliver twice, so it is reported as uncertain, not retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Protocol

import aiosmtplib
import structlog
from complaint_contracts.privacy import redact_contacts

from notify.messages.domain.recipients import masked_address

log = structlog.get_logger(__name__)

MESSAGE_ID_DOMAIN = "opencomplaints"
MAX_ERROR = 500


@dataclass(frozen=True)
class OutgoingEmail:
    delivery_id: str
    to_address: str
    to_name: str | None
    subject: str
    body: str
    template: str
    language: str


class SendError(Exception):
    """A send that did not (certainly) succeed; the text is already free of contacts."""

    def __init__(self, message: str, *, retryable: bool, uncertain: bool = False):
        super().__init__(safe_error(message))
        self.retryable = retryable and not uncertain
        self.uncertain = uncertain


def safe_error(text: str) -> str:
    """Error text fit for rows, events and logs: contacts masked, length bounded."""
    return redact_contacts(text)[:MAX_ERROR] or "error"


def message_id(delivery_id: str) -> str:
    """Deterministic per delivery, so a receiving system can drop a duplicate."""
    return f"<{delivery_id}@{MESSAGE_ID_DOMAIN}>"


def build_message(email: OutgoingEmail, *, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    if email.to_name:
        local, _, domain = email.to_address.rpartition("@")
        message["To"] = Address(display_name=email.to_name, username=local, domain=domain)
    else:
        message["To"] = email.to_address
    message["Subject"] = email.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = message_id(email.delivery_id)
    message["Auto-Submitted"] = "auto-generated"
    message["Content-Language"] = email.language
    message.set_content(email.body, charset="utf-8", cte="base64")
    return message


class Channel(Protocol):
    name: str

    async def send(self, email: OutgoingEmail) -> None: ...


class LogChannel:
    """For environments without SMTP: the message is only summarised, masked, in the log."""

    name = "log"

    async def send(self, email: OutgoingEmail) -> None:
        log.info(
            "notification logged instead of sent",
            delivery_id=email.delivery_id,
            template=email.template,
            language=email.language,
            recipient=masked_address(email.to_address),
            subject_chars=len(email.subject),
            body_chars=len(email.body),
        )


class SmtpChannel:
    name = "email"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        timeout_s: float,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
    ):
        self._host = host
        self._port = port
        self._sender = sender
        self._envelope_sender = parseaddr(sender)[1] or sender
        self._timeout_s = timeout_s
        self._username = username or None
        self._password = password or None
        self._starttls = starttls

    async def send(self, email: OutgoingEmail) -> None:
        payload = build_message(email, sender=self._sender).as_bytes()
        smtp = aiosmtplib.SMTP(
            hostname=self._host,
            port=self._port,
            timeout=self._timeout_s,
            start_tls=self._starttls,
            username=self._username,
            password=self._password,
        )
        try:
            await self._before_data(smtp, email.to_address)
            try:
                await smtp.data(payload)
            except aiosmtplib.SMTPResponseException as exc:
                raise SendError(
                    f"SMTP refused the message: {exc.code} {exc.message}",
                    retryable=400 <= exc.code < 500,
                ) from exc
            except (aiosmtplib.SMTPException, OSError) as exc:
                raise SendError(
                    f"connection lost during DATA, outcome unknown: {type(exc).__name__}",
                    retryable=False,
                    uncertain=True,
                ) from exc
        finally:
            await _quit_quietly(smtp)

    async def _before_data(self, smtp: aiosmtplib.SMTP, recipient: str) -> None:
        try:
            await smtp.connect()
            await smtp.mail(self._envelope_sender)
            await smtp.rcpt(recipient)
        except aiosmtplib.SMTPRecipientRefused as exc:
            raise SendError(
                f"SMTP refused the recipient: {exc.code} {exc.message}",
                retryable=400 <= exc.code < 500,
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise SendError(
                f"SMTP error: {exc.code} {exc.message}", retryable=400 <= exc.code < 500
            ) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Refused or dropped connections and timeouts before DATA: nothing was sent.
            raise SendError(
                f"SMTP unavailable: {type(exc).__name__}: {exc}", retryable=True
            ) from exc
        except UnicodeEncodeError as exc:
            raise SendError("address not representable in ASCII", retryable=False) from exc


async def _quit_quietly(smtp: aiosmtplib.SMTP) -> None:
    if not smtp.is_connected:
        return
    try:
        await smtp.quit()
    except (aiosmtplib.SMTPException, OSError):
        smtp.close()
