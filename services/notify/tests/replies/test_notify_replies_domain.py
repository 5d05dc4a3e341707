"""The pure rules of replies: reply addresses (round trip, tampering), the reply's own
text without the quoted history, bounce reports, the SMS push and its unsubscribe words."""

from __future__ import annotations

import uuid
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from hypothesis import given
from hypothesis import strategies as st
from notify.replies.domain.addresses import (
    TAG_HEX,
    bounce_address,
    is_bounce_address,
    make_reply_address,
    parse_reply_address,
)
from notify.replies.domain.bounces import bounced_delivery_id, is_delivery_report
from notify.replies.domain.sms import MalformedInbound, is_unsubscribe, parse_aliyun_sms_up
from notify.replies.domain.text import (
    MAX_HTML,
    MAX_TEXT,
    html_to_text,
    reply_text,
    storable_text,
    strip_quoted,
)

KEY = b"k" * 32
DOMAIN = "replies.example.org"
uuids = st.uuids().map(str)


@given(uuids)
def test_a_reply_address_names_its_complaint(complaint_id: str) -> None:
    address = make_reply_address(complaint_id, key=KEY, domain=DOMAIN)
    local = address.rpartition("@")[0]
    assert len(local) <= 64  # RFC 5321's bound of a local part
    assert parse_reply_address(address, key=KEY, domain=DOMAIN) == complaint_id
    assert parse_reply_address(address.upper(), key=KEY, domain=DOMAIN) == complaint_id
    assert parse_reply_address(f"<{address}>", key=KEY, domain=DOMAIN) == complaint_id


@given(uuids, st.integers(min_value=0, max_value=TAG_HEX - 1), st.sampled_from("0123456789abcdef"))
def test_a_changed_tag_names_no_complaint(complaint_id: str, position: int, digit: str) -> None:
    address = make_reply_address(complaint_id, key=KEY, domain=DOMAIN)
    local, _, domain = address.rpartition("@")
    tag_start = len(local) - TAG_HEX
    tag = local[tag_start:]
    changed = tag[:position] + digit + tag[position + 1 :]
    forged = f"{local[:tag_start]}{changed}@{domain}"
    expected = complaint_id if changed == tag else None
    assert parse_reply_address(forged, key=KEY, domain=DOMAIN) == expected


@given(uuids, uuids)
def test_a_tag_does_not_fit_another_complaint(first: str, second: str) -> None:
    tag = make_reply_address(first, key=KEY, domain=DOMAIN).rpartition(".")[2]
    forged = f"reply+{second}.{tag}"
    assert parse_reply_address(forged, key=KEY, domain=DOMAIN) in (
        None,
        first if first == second else None,
    )


@pytest.mark.parametrize(
    "address",
    [
        "someone@replies.example.org",
        "reply+abc@replies.example.org",
        f"reply+{uuid.uuid4()}.{'0' * TAG_HEX}@replies.example.org",
        # Non-ASCII tags: hmac.compare_digest would raise TypeError (RCPT answered 500).
        f"reply+{uuid.uuid4()}.{'é' * TAG_HEX}@replies.example.org",
        f"reply+{uuid.uuid4()}.{'０' * TAG_HEX}@replies.example.org",
        f"reply+{uuid.uuid4()}\n.{'0' * TAG_HEX}@replies.example.org",
        "",
        "@",
    ],
)
def test_other_addresses_name_no_complaint(address: str) -> None:
    assert parse_reply_address(address, key=KEY, domain=DOMAIN) is None


def test_another_domain_or_key_names_no_complaint() -> None:
    complaint_id = str(uuid.uuid4())
    address = make_reply_address(complaint_id, key=KEY, domain=DOMAIN)
    assert parse_reply_address(address, key=KEY, domain="other.example.org") is None
    assert parse_reply_address(address, key=b"x" * 32, domain=DOMAIN) is None


def test_the_bounce_address() -> None:
    assert bounce_address(DOMAIN) == "bounces@replies.example.org"
    assert is_bounce_address("<Bounces@Replies.Example.org>", domain=DOMAIN)
    assert not is_bounce_address("bounce@replies.example.org", domain=DOMAIN)


QUOTED = [
    (
        "Still no refund.\n\nOn Mon, 7 Dec 2026 at 10:00, OpenComplaints <n@x> wrote:\n> Dear",
        "Still no refund.",
    ),
    ("还没有退款。\n\n在 2026年12月7日 10:00，OpenComplaints 写道：\n> 您好", "还没有退款。"),
    ("Please call me.\n-----Original Message-----\nFrom: x", "Please call me."),
    ("Line one\nLine two\n> quoted\nafter", "Line one\nLine two"),
    ("Thanks\r\n\r\n> old", "Thanks"),
]


@pytest.mark.parametrize(("text", "expected"), QUOTED)
def test_the_quoted_history_is_dropped(text: str, expected: str) -> None:
    assert strip_quoted(text) == expected


def _mail(**parts: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "customer@example.com"
    message["To"] = "reply@x"
    message["Subject"] = "Re: your complaint"
    if "plain" in parts:
        message.set_content(parts["plain"])
    if "html" in parts:
        if "plain" in parts:
            message.add_alternative(parts["html"], subtype="html")
        else:
            message.set_content(parts["html"], subtype="html")
    return BytesParser(policy=policy.default).parsebytes(message.as_bytes())  # type: ignore[return-value]


def test_the_plain_part_is_preferred() -> None:
    mail = _mail(plain="Plain words\n> quoted", html="<p>HTML words</p>")
    assert reply_text(mail) == "Plain words"


def test_an_html_only_reply_is_stripped_of_tags_and_quotes() -> None:
    mail = _mail(
        html="<div>My answer &amp; more<br>second line</div>"
        "<blockquote>Dear customer, ...</blockquote><script>x()</script>"
    )
    assert reply_text(mail) == "My answer & more\nsecond line"


def test_html_to_text_keeps_no_markup() -> None:
    assert html_to_text("<p>a</p><p>b<b>c</b></p>").split() == ["a", "bc"]


def test_html_to_text_hides_what_a_browser_hides() -> None:
    markup = (
        "<!DOCTYPE html><html><head><title>T</title><style>p{}</style></head><body>"
        "<div>Hi &amp; a < b<br/>x</div><!-- note -->"
        "<blockquote>q<blockquote>qq</blockquote>still q</blockquote>"
        "<p>after</p><script>if (a<b) {}</script><li>end</li></body></html>"
    )
    assert html_to_text(markup).split("\n") == ["", "Hi & a < b", "x", "", "after", "", "end", ""]


@pytest.mark.parametrize("markup", ["see <a href='x", "see <!-- x", "see <blockquote>x"])
def test_html_to_text_drops_what_follows_an_unclosed_tag(markup: str) -> None:
    assert html_to_text(markup) == "see "


@pytest.mark.parametrize("unit", ["<script", "<", "<a ", '<a x="', "</", "<!--", "<br<br"])
def test_pathological_html_is_read_in_bounded_work(unit: str) -> None:
    # 500 KB of unclosed tags took minutes with the former regular expressions (on the
    # event loop); the parse now reads at most MAX_HTML characters in one linear pass.
    markup = unit * (500_000 // len(unit))
    assert len(html_to_text(markup)) <= MAX_HTML
    assert len(reply_text(_mail(html=f"<p>Words</p>{markup}"))) <= MAX_TEXT


def test_control_characters_are_dropped_and_the_rest_kept() -> None:
    text = "a\x00b\x01\x08\x0b\x0c\x0e\x1f\x7fc\td\r\ne\u0085f\u2028g é 长"
    assert storable_text(text) == "abc\td\r\ne\u0085f\u2028g é 长"
    assert reply_text(_mail(plain="Still\x00 no\x1b refund\x7f")) == "Still no refund"


def test_a_long_reply_is_bounded() -> None:
    assert len(reply_text(_mail(plain="长" * (MAX_TEXT + 500)))) == MAX_TEXT


def _dsn(*, action: str, status: str, message_id: str, returned: str = "headers") -> EmailMessage:
    """A delivery status notification as an MTA writes it (RFC 3464)."""
    boundary = "BOUNDARY-42"
    headers_text = f"Message-ID: {message_id}\nSubject: Your complaint\n"
    returned_part = (
        f"Content-Type: text/rfc822-headers\n\n{headers_text}"
        if returned == "headers"
        else f"Content-Type: message/rfc822\n\n{headers_text}\nbody\n"
    )
    text = (
        "From: MAILER-DAEMON@mx.example.com\nTo: bounces@replies.example.org\n"
        "Subject: Undelivered Mail\nMIME-Version: 1.0\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\n\n'
        f"--{boundary}\nContent-Type: text/plain\n\nThe message could not be delivered.\n\n"
        f"--{boundary}\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.example.com\n\n"
        f"Final-Recipient: rfc822; gone@example.com\nAction: {action}\nStatus: {status}\n\n"
        f"--{boundary}\n{returned_part}\n--{boundary}--\n"
    )
    parsed = BytesParser(policy=policy.default).parsebytes(text.encode())
    assert isinstance(parsed, EmailMessage)
    return parsed


DELIVERY_ID = "0195f3c2-7a10-7c4e-9b2d-3f6a8e1d2c41"


@pytest.mark.parametrize("returned", ["headers", "message"])
def test_a_permanent_bounce_names_the_delivery(returned: str) -> None:
    dsn = _dsn(
        action="failed",
        status="5.1.1",
        message_id=f"<{DELIVERY_ID}@opencomplaints>",
        returned=returned,
    )
    assert is_delivery_report(dsn)
    assert bounced_delivery_id(dsn) == DELIVERY_ID


@pytest.mark.parametrize(
    ("action", "status", "message_id"),
    [
        ("delayed", "4.4.1", f"<{DELIVERY_ID}@opencomplaints>"),  # still trying
        ("failed", "4.2.2", f"<{DELIVERY_ID}@opencomplaints>"),  # temporary
        ("failed", "5.1.1", "<someone-else@example.com>"),  # not our message
    ],
)
def test_other_reports_name_no_delivery(action: str, status: str, message_id: str) -> None:
    assert bounced_delivery_id(_dsn(action=action, status=status, message_id=message_id)) is None


def test_an_ordinary_reply_is_no_report() -> None:
    assert bounced_delivery_id(_mail(plain="hello")) is None


@pytest.mark.parametrize("text", ["TD", " td ", "退订", "STOP", "Unsubscribe", "退订。"])
def test_unsubscribe_words(text: str) -> None:
    assert is_unsubscribe(text)


@pytest.mark.parametrize("text", ["TD please", "don't stop", "我要退订吗", ""])
def test_other_texts_do_not_unsubscribe(text: str) -> None:
    assert not is_unsubscribe(text)


def test_an_sms_push_is_parsed() -> None:
    body = (
        '[{"phone_number": "13812345678", "content": "还没收到退款", '
        '"send_time": "2026-12-07 10:00:00", "dest_code": "1234", "sequence_id": 42}]'
    )
    (sms,) = parse_aliyun_sms_up(body)
    assert (sms.phone_number, sms.content, sms.sequence_id) == ("13812345678", "还没收到退款", "42")
    assert sms.sent_at.isoformat() == "2026-12-07T10:00:00+08:00"


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "{}",
        '[{"content": "x", "send_time": "2026-12-07 10:00:00", "sequence_id": 1}]',
        '[{"phone_number": "1", "content": "x", "send_time": "yesterday", "sequence_id": 1}]',
        '[{"phone_number": "1", "content": "x", "send_time": "2026-12-07 10:00:00"}]',
    ],
)
def test_a_malformed_push_is_refused(body: str) -> None:
    with pytest.raises(MalformedInbound):
        parse_aliyun_sms_up(body)
