"""SMTP connections are kept between messages (fewer round trips and handshakes per
message), against a real SMTP server (aiosmtpd): a connection carries several messages, one
the server closed meanwhile is replaced before anything is sent, a stale idle one is not
reused, and a failed message's connection is never reused."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller
from notify.adapters.channels import OutgoingEmail, SendError, SmtpChannel

from ..deliveries.test_notify_delivery_loop import SmtpSink, free_port


@dataclass
class CountingSink(SmtpSink):
    """Also counts the SMTP sessions opened (one EHLO each)."""

    sessions: int = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.sessions += 1
        session.host_name = hostname
        return responses


@dataclass
class Server:
    sink: CountingSink
    port: int
    controller: Controller

    def restart(self) -> None:
        """Drop every connection (as a server restart or an idle timeout does)."""
        self.controller.stop()
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self.controller.start()


@pytest.fixture
def server() -> Iterator[Server]:
    sink, port = CountingSink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    running = Server(sink, port, controller)
    yield running
    running.controller.stop()


def _channel(server: Server, **kw: object) -> SmtpChannel:
    return SmtpChannel(
        host="127.0.0.1",
        port=server.port,
        sender="n@example.com",
        timeout_s=5,
        **kw,  # type: ignore[arg-type]
    )


def _email(n: int) -> OutgoingEmail:
    return OutgoingEmail(f"d-{n}", f"c{n}@example.com", None, "s", "b", "acknowledgement", "en")


async def test_one_connection_carries_several_messages(server: Server) -> None:
    channel = _channel(server)
    for n in range(5):
        await channel.send(_email(n))
    await channel.aclose()
    assert len(server.sink.messages) == 5
    assert server.sink.rcpts == [[f"c{n}@example.com"] for n in range(5)]
    assert server.sink.sessions == 1


async def test_a_connection_the_server_dropped_is_replaced_before_sending(server: Server) -> None:
    channel = _channel(server)
    await channel.send(_email(1))
    server.restart()
    await channel.send(_email(2))  # the kept connection fails at MAIL: a fresh one is used
    await channel.aclose()
    assert [m["Message-ID"] for m in server.sink.messages] == [
        "<d-1@opencomplaints>",
        "<d-2@opencomplaints>",
    ]
    assert server.sink.sessions == 2


async def test_an_idle_connection_past_its_time_is_not_reused(server: Server) -> None:
    now = [0.0]
    channel = _channel(server, idle_s=30.0, clock=lambda: now[0])
    await channel.send(_email(1))
    now[0] = 31.0
    await channel.send(_email(2))
    await channel.aclose()
    assert server.sink.sessions == 2


async def test_a_failed_message_does_not_leave_its_connection_for_the_next(server: Server) -> None:
    channel = _channel(server)
    server.sink.data_replies.append("554 rejected")
    with pytest.raises(SendError, match="554") as refused:
        await channel.send(_email(1))
    assert not refused.value.retryable
    server.sink.rcpt_reply = "450 mailbox busy"
    with pytest.raises(SendError, match="450") as busy:
        await channel.send(_email(2))
    assert busy.value.retryable
    server.sink.rcpt_reply = None
    await channel.send(_email(3))
    await channel.aclose()
    assert server.sink.sessions == 3  # each failure closed its connection
    assert [m["Message-ID"] for m in server.sink.messages] == ["<d-3@opencomplaints>"]


async def test_a_name_stored_with_a_line_break_is_sent_on_one_line(server: Server) -> None:
    """A customer name kept with CR/LF (intake refuses them now, not always before) made
    every e-mail of the complaint fail; it is sent with the name on one line, and nothing
    it held becomes a header."""
    channel = _channel(server)
    email = OutgoingEmail(
        "d-1",
        "zw@example.com",
        "Zhang\r\nBcc: other@example.com\x00\u2028Wei",
        "Subject\nwith a break",
        "b",
        "acknowledgement",
        "en",
    )
    await channel.send(email)
    await channel.aclose()
    [message] = server.sink.messages
    assert message["To"] == '"Zhang Bcc: other@example.com Wei" <zw@example.com>'
    assert message["Subject"] == "Subject with a break"
    assert message["Bcc"] is None
    assert server.sink.rcpts == [["zw@example.com"]]


@dataclass
class EnvelopeSink(CountingSink):
    """Also keeps each message's envelope sender (MAIL FROM)."""

    mail_from: list[str] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        self.mail_from.append(envelope.mail_from)
        return await super().handle_DATA(server, session, envelope)


async def test_bounces_go_to_notify_s_own_address_when_it_receives_them() -> None:
    sink, port = EnvelopeSink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        running = Server(sink, port, controller)
        plain = _channel(running)
        await plain.send(_email(1))
        own = _channel(running, envelope_sender="bounces@replies.example.com")
        await own.send(_email(2))
        await plain.aclose()
        await own.aclose()
    finally:
        controller.stop()
    # The From header's address by default; the reply endpoint's bounce address when set.
    assert sink.mail_from == ["n@example.com", "bounces@replies.example.com"]
    assert [m["From"] for m in sink.messages] == ["n@example.com", "n@example.com"]
