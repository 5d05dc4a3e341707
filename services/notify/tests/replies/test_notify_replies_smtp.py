"""The inbound SMTP endpoint, spoken to by a real SMTP client (aiosmtplib) over loopback:
a reply to a valid reply address is committed before 250 and stored once; a made-up or
altered address is refused at RCPT (550); a message over the size bound is refused (552);
a bounce report (DSN) of one of notify's e-mails suppresses that address; an out-of-office
answer is accepted but not taken as the customer's words; the message is parsed off the
event loop; control characters are dropped from the stored text."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from email.message import EmailMessage

import aiosmtplib
import pytest
from complaint_runtime.database import utcnow
from notify.replies import service
from notify.replies.db import InboundReply
from notify.replies.smtp import ReplyEndpoint, ReplyHandler
from notify.suppressions.db import Suppression
from sqlalchemy import select

from .conftest import COMPLAINT_ID, Notify

MAX_BYTES = 16 * 1024
DELIVERY_ID = "0195f3c2-7a10-7c4e-9b2d-3f6a8e1d2c41"


@pytest.fixture
async def endpoint(notify: Notify) -> AsyncIterator[int]:
    """The endpoint on an ephemeral loopback port (its port)."""
    handler = ReplyHandler(
        database=notify.deps.database, addressing=notify.replies.addressing, clock=utcnow
    )
    server = ReplyEndpoint(handler=handler, host="127.0.0.1", port=0, max_bytes=MAX_BYTES)
    task = asyncio.create_task(server.run())
    await asyncio.wait_for(server.listening.wait(), timeout=10)
    assert server.bound_port is not None
    yield server.bound_port
    server.stop()
    await task


def reply(to: str, text: str = "Still no refund, please call me.", **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "zhang.wei@example.com"
    message["To"] = to
    message["Subject"] = "Re: Your complaint"
    message["Message-ID"] = "<reply-1@example.com>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(f"{text}\n\nOn Mon, 7 Dec 2026, OpenComplaints wrote:\n> Dear customer")
    return message


async def send(port: int, message: EmailMessage, *, to: str | None = None) -> None:
    await aiosmtplib.send(
        message,
        hostname="127.0.0.1",
        port=port,
        recipients=[to] if to else None,
        timeout=10,
    )


async def stored(notify: Notify) -> list[InboundReply]:
    async with notify.deps.database.sessions() as session:
        return list(await session.scalars(select(InboundReply)))


async def test_a_reply_is_stored_once(notify: Notify, endpoint: int) -> None:
    address = notify.replies.addressing.reply_address(COMPLAINT_ID)
    assert address is not None
    await send(endpoint, reply(address))
    (row,) = await stored(notify)  # committed before the 250 the client got
    assert (row.complaint_id, row.channel, row.status) == (COMPLAINT_ID, "email", "pending")
    assert row.text == "Still no refund, please call me."
    await send(endpoint, reply(address))  # the same e-mail delivered again
    assert len(await stored(notify)) == 1


async def test_an_altered_address_is_refused(notify: Notify, endpoint: int) -> None:
    address = notify.replies.addressing.reply_address(COMPLAINT_ID)
    assert address is not None
    local, _, domain = address.rpartition("@")
    forged = f"{local[:-1]}{'0' if local[-1] != '0' else '1'}@{domain}"
    for to in (forged, f"someone@{domain}", "postmaster@example.com"):
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
            await send(endpoint, reply(to), to=to)
        assert refused.value.recipients[0].code == 550
    assert await stored(notify) == []


@pytest.mark.parametrize("tag", ["é" * 20, "０" * 20])
async def test_an_address_with_other_characters_is_refused(
    notify: Notify, endpoint: int, tag: str
) -> None:
    # hmac.compare_digest raised TypeError on a non-ASCII tag: aiosmtpd answered 500.
    to = f"reply+{COMPLAINT_ID}.{tag}@replies.example.org"
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=endpoint, timeout=10) as smtp:
        await smtp.mail("zhang.wei@example.com", options=["SMTPUTF8"])
        with pytest.raises(aiosmtplib.SMTPRecipientRefused) as refused:
            await smtp.rcpt(to, encoding="utf-8")
    assert refused.value.code == 550
    assert await stored(notify) == []


async def test_a_message_is_read_off_the_event_loop(
    notify: Notify, endpoint: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Parsing and text extraction are CPU work on what a stranger sent: in a worker thread
    # they cannot hold up the event loop that serves everything else in notify.
    threads: list[threading.Thread] = []
    read_email = service.read_email

    def recording(raw: bytes) -> service.InboundEmail:
        threads.append(threading.current_thread())
        return read_email(raw)

    monkeypatch.setattr(service, "read_email", recording)
    address = notify.replies.addressing.reply_address(COMPLAINT_ID)
    assert address is not None
    await send(endpoint, reply(address, "Still\x00 no\x1b refund."))
    assert threads
    assert threads[0] is not threading.main_thread()
    (row,) = await stored(notify)
    assert row.text == "Still no refund."


async def test_a_message_too_large_is_refused(notify: Notify, endpoint: int) -> None:
    address = notify.replies.addressing.reply_address(COMPLAINT_ID)
    assert address is not None
    with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
        await send(endpoint, reply(address, text="x" * (MAX_BYTES * 2)))
    assert refused.value.code == 552
    assert await stored(notify) == []


async def test_an_automatic_answer_is_not_taken_as_the_customers_words(
    notify: Notify, endpoint: int
) -> None:
    address = notify.replies.addressing.reply_address(COMPLAINT_ID)
    assert address is not None
    await send(endpoint, reply(address, "I am out of the office.", Auto_Submitted="auto-replied"))
    assert await stored(notify) == []


def bounce(to: str, *, status: str = "5.1.1") -> bytes:
    boundary = "DSN-BOUNDARY"
    return (
        f"From: MAILER-DAEMON@mx.example.com\r\nTo: {to}\r\nSubject: Undelivered Mail\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"'
        f"\r\n\r\n--{boundary}\r\nContent-Type: text/plain\r\n\r\nCould not deliver.\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.com\r\n\r\n"
        f"Final-Recipient: rfc822; gone@example.com\r\nAction: failed\r\nStatus: {status}\r\n"
        f"\r\n--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: <{DELIVERY_ID}@opencomplaints>\r\nSubject: Your complaint\r\n"
        f"\r\n--{boundary}--\r\n"
    ).encode()


@pytest.mark.parametrize(("status", "suppressed"), [("5.1.1", True), ("4.4.1", False)])
async def test_a_bounce_suppresses_the_address(
    notify: Notify, endpoint: int, status: str, suppressed: bool
) -> None:
    await notify.add_delivery(delivery_id=DELIVERY_ID, recipient_key="a" * 64)
    to = notify.replies.addressing.bounce_address()
    assert to is not None
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=endpoint, timeout=10) as smtp:
        await smtp.mail("")  # MAIL FROM:<>, the null sender of every bounce
        await smtp.rcpt(to)
        await smtp.data(bounce(to, status=status))
    async with notify.deps.database.sessions() as session:
        rows = list(await session.scalars(select(Suppression)))
    expected = [("a" * 64, "email", "bounce")] if suppressed else []
    assert [(r.recipient_key, r.channel, r.reason) for r in rows] == expected
    assert await stored(notify) == []  # a report is never a customer's message
