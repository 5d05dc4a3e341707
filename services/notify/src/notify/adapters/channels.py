"""Where a rendered message goes: e-mail over SMTP, or only a masked log line.

The SMTP conversation is driven step by step so that a failure can be told apart by where
it happened. Before the message's DATA went out, nothing was delivered: a 4xx or a refused
connection is retried, a 5xx is final. A 4xx/5xx *answer* to DATA is still a clear "not
accepted". But a connection lost or timed out while DATA is in flight leaves the outcome
unknown, and resending could deliver twice, so it is reported as uncertain, not retried.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
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
    # The complaint's reply address (Reply-To): the customer's answer comes back to notify.
    reply_to: str | None = None
    # A non-transactional message's one-click unsubscribe link (RFC 8058).
    unsubscribe_url: str | None = None


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
    """The e-mail as sent. Header values are made one line first: a name stored with a
    line break (before intake refused them) or a control character would otherwise make
    every message to that customer fail, or inject a header."""
    message = EmailMessage()
    message["From"] = sender
    name = header_text(email.to_name or "")
    if name:
        local, _, domain = email.to_address.rpartition("@")
        message["To"] = Address(display_name=name, username=local, domain=domain)
    else:
        message["To"] = email.to_address
    message["Subject"] = header_text(email.subject)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = message_id(email.delivery_id)
    message["Auto-Submitted"] = "auto-generated"
    message["Content-Language"] = email.language
    if email.reply_to:
        message["Reply-To"] = header_text(email.reply_to)
    if email.unsubscribe_url:
        # RFC 8058 one-click: the mail client POSTs "List-Unsubscribe=One-Click" to the URL.
        message["List-Unsubscribe"] = f"<{header_text(email.unsubscribe_url)}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(email.body, charset="utf-8", cte="base64")
    return message


def header_text(value: str) -> str:
    """``value`` on one line: line breaks and every other unprintable character become
    spaces, runs of spaces one (the header encoding takes care of any other character)."""
    return " ".join("".join(c if c.isprintable() else " " for c in value).split())


class Channel(Protocol):
    name: str

    async def send(self, email: OutgoingEmail) -> None: ...

    async def aclose(self) -> None: ...


class LogChannel:
    """For environments without SMTP: the message is only summarised, masked, in the log."""

    name = "log"

    async def aclose(self) -> None:
        """Nothing held open."""

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
    """E-mail over SMTP, with a few connections kept open between messages.

    A connection is reused only after a message it carried was accepted (its transaction
    is over); any error closes it. A reused connection the server closed meanwhile fails
    at MAIL, before anything was sent: the message then goes over a fresh one. Idle
    connections older than ``idle_s`` are closed rather than reused (servers drop idle
    clients; RFC 5321 allows it after 5 minutes, many do it sooner).
    """

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
        pool_size: int = 4,
        idle_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        envelope_sender: str | None = None,
    ):
        self._host = host
        self._port = port
        self._sender = sender
        # MAIL FROM: where delivery reports (bounces) go; the From header's address unless
        # notify receives them itself (NOTIFY_REPLY_DOMAIN's bounce address).
        self._envelope_sender = envelope_sender or parseaddr(sender)[1] or sender
        self._timeout_s = timeout_s
        self._username = username or None
        self._password = password or None
        self._starttls = starttls
        self._pool_size = pool_size
        self._idle_s = idle_s
        self._clock = clock
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []  # (connection, idle since)

    async def send(self, email: OutgoingEmail) -> None:
        payload = build_message(email, sender=self._sender).as_bytes()
        smtp = await self._ready_for(email.to_address)
        try:
            await smtp.data(payload)
        except aiosmtplib.SMTPResponseException as exc:
            await _quit_quietly(smtp)
            raise SendError(
                f"SMTP refused the message: {exc.code} {exc.message}",
                retryable=400 <= exc.code < 500,
            ) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            smtp.close()
            raise SendError(
                f"connection lost during DATA, outcome unknown: {type(exc).__name__}",
                retryable=False,
                uncertain=True,
            ) from exc
        except BaseException:
            smtp.close()  # cancelled mid-DATA: never reused
            raise
        await self._put_back(smtp)

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for smtp, _ in idle:
            await _quit_quietly(smtp)

    async def _ready_for(self, recipient: str) -> aiosmtplib.SMTP:
        """A connection with MAIL and RCPT accepted for ``recipient``: a kept one if it still
        works, else a new one."""
        while (kept := self._take_idle()) is not None:
            try:
                await kept.mail(self._envelope_sender)
            except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPResponseException, OSError):
                kept.close()  # gone stale; nothing was sent on it
                continue
            except BaseException:
                kept.close()
                raise
            return await self._with_recipient(kept, recipient)
        fresh = self._new_client()
        await self._guarded(fresh, self._open(fresh))
        return await self._with_recipient(fresh, recipient)

    async def _open(self, smtp: aiosmtplib.SMTP) -> None:
        await smtp.connect()
        await smtp.mail(self._envelope_sender)

    async def _with_recipient(self, smtp: aiosmtplib.SMTP, recipient: str) -> aiosmtplib.SMTP:
        await self._guarded(smtp, smtp.rcpt(recipient))
        return smtp

    async def _guarded(self, smtp: aiosmtplib.SMTP, step: Awaitable[object]) -> None:
        """Run a step before DATA; on any failure the connection is closed and the error
        told apart (nothing was sent yet)."""
        try:
            await step
        except Exception as exc:
            smtp.close()
            mapped = _before_data_error(exc)
            if mapped is None:
                raise  # not the conversation's failure: a bug, reported as such
            raise mapped from exc
        except BaseException:
            smtp.close()  # cancelled: never reused
            raise

    def _take_idle(self) -> aiosmtplib.SMTP | None:
        now = self._clock()
        while self._idle:
            smtp, since = self._idle.pop()
            if smtp.is_connected and now - since < self._idle_s:
                return smtp
            smtp.close()
        return None

    async def _put_back(self, smtp: aiosmtplib.SMTP) -> None:
        if len(self._idle) < self._pool_size and smtp.is_connected:
            self._idle.append((smtp, self._clock()))
        else:
            await _quit_quietly(smtp)

    def _new_client(self) -> aiosmtplib.SMTP:
        return aiosmtplib.SMTP(
            hostname=self._host,
            port=self._port,
            timeout=self._timeout_s,
            start_tls=self._starttls,
            username=self._username,
            password=self._password,
        )


def _before_data_error(exc: Exception) -> SendError | None:
    """What a failure before DATA means: nothing was sent, so retry on a temporary one."""
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused):
        return SendError(
            f"SMTP refused the recipient: {exc.code} {exc.message}",
            retryable=400 <= exc.code < 500,
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return SendError(f"SMTP error: {exc.code} {exc.message}", retryable=400 <= exc.code < 500)
    if isinstance(exc, aiosmtplib.SMTPException | OSError):
        # Refused or dropped connections and timeouts before DATA: nothing was sent.
        return SendError(f"SMTP unavailable: {type(exc).__name__}: {exc}", retryable=True)
    if isinstance(exc, UnicodeEncodeError):
        return SendError("address not representable in ASCII", retryable=False)
    return None


async def _quit_quietly(smtp: aiosmtplib.SMTP) -> None:
    if not smtp.is_connected:
        return
    try:
        await smtp.quit()
    except (aiosmtplib.SMTPException, OSError):
        smtp.close()
