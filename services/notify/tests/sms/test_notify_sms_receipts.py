"""Alibaba Cloud SmsReport pushes parsed into receipts (notify.sms.domain.receipts)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from notify.sms.domain.receipts import (
    ACKNOWLEDGEMENT,
    MAX_RECEIPT_ERROR,
    MalformedReceipt,
    SmsReceipt,
    parse_aliyun_sms_report,
    receipt_error,
    receipt_status,
)


def report(**overrides: Any) -> dict[str, Any]:
    """The documentation's example report, with our out id."""
    fields: dict[str, Any] = {
        "phone_number": "13812345678",
        "send_time": "2017-01-01 00:00:00",
        "report_time": "2017-01-01 00:00:05",
        "success": True,
        "err_code": "DELIVERED",
        "err_msg": "用户接收成功",
        "sms_size": "1",
        "biz_id": "932702304080415357^0",
        "out_id": "delivery-1",
    }
    fields.update(overrides)
    return fields


def body(*reports: Any) -> bytes:
    return json.dumps(list(reports), ensure_ascii=False).encode()


def test_a_delivered_report_becomes_a_receipt_with_the_number_masked() -> None:
    (receipt,) = parse_aliyun_sms_report(body(report()))
    assert receipt == SmsReceipt(
        phone_masked="138****5678",
        success=True,
        biz_id="932702304080415357^0",
        out_id="delivery-1",
        send_time=datetime(2016, 12, 31, 16, 0, 0, tzinfo=UTC),
        report_time=datetime(2016, 12, 31, 16, 0, 5, tzinfo=UTC),
        err_code="DELIVERED",
        err_msg="用户接收成功",
        parts=1,
    )
    assert "13812345678" not in repr(receipt)


def test_one_push_carries_several_reports_in_order_and_failures_too() -> None:
    failed = report(success=False, err_code="MK:0001", err_msg="停机", out_id="delivery-2")
    receipts = parse_aliyun_sms_report(body(report(), failed).decode())
    assert [r.out_id for r in receipts] == ["delivery-1", "delivery-2"]
    assert receipts[1].success is False
    assert receipts[1].err_code == "MK:0001"


def test_a_report_without_out_id_or_size_still_parses() -> None:
    bare = report()
    del bare["out_id"], bare["sms_size"], bare["err_msg"]
    (receipt,) = parse_aliyun_sms_report(body(bare))
    assert receipt.out_id is None
    assert receipt.parts is None
    assert receipt.err_msg == ""


def test_the_acknowledgement_is_the_documented_one() -> None:
    assert ACKNOWLEDGEMENT == {"code": 0, "msg": "接收成功"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b'{"phone_number": "13812345678"}', "JSON array"),
        (b"[]", "no report"),
        (b"[1]", "report 0 is not a JSON object"),
        (body(report(), report(success="true")), "report 1: success must be true or false"),
        (body(report(success=None)), "success"),
        (body(report(biz_id="")), "biz_id is empty"),
        (body(report(biz_id=123)), "biz_id must be a string"),
        (body(report(phone_number=None)), "phone_number must be a string"),
        (body(report(send_time="2017-01-01T00:00:00Z")), "send_time is not YYYY-MM-DD"),
        (body(report(report_time="2017-02-30 00:00:00")), "report_time is not"),
        (body(report(sms_size="0")), "sms_size"),
        (body(report(sms_size="two")), "sms_size"),
        (body(report(err_msg="x" * 513)), "err_msg is longer"),
        (body(*[report()] * 1001), "more than 1000"),
    ],
)
def test_malformed_pushes_are_refused_with_a_clear_error(raw: bytes, message: str) -> None:
    with pytest.raises(MalformedReceipt, match=message) as refused:
        parse_aliyun_sms_report(raw)
    assert "13812345678" not in str(refused.value)


def test_the_missing_field_is_named() -> None:
    missing = report()
    del missing["report_time"]
    with pytest.raises(MalformedReceipt, match="report_time must be a string"):
        parse_aliyun_sms_report(body(missing))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_any_body_is_parsed_or_refused_never_a_crash(raw: bytes | str) -> None:
    try:
        parse_aliyun_sms_report(raw)
    except MalformedReceipt:
        pass


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(report())), json_values, max_size=9))
def test_any_json_report_is_parsed_or_refused_never_a_crash(fields: dict[str, Any]) -> None:
    try:
        parse_aliyun_sms_report(body(report(**fields)))
    except MalformedReceipt:
        pass


def test_what_a_delivery_records_of_a_receipt() -> None:
    delivered, failed, long = parse_aliyun_sms_report(
        body(
            report(),
            report(success=False, err_code="MK:0001", err_msg="停机 13812345678"),
            report(success=False, err_code="E" * 300, err_msg=""),
        )
    )
    assert (receipt_status(delivered), receipt_error(delivered)) == ("delivered", None)
    assert receipt_status(failed) == "failed"
    assert receipt_error(failed) == "MK:0001: 停机 138****5678"  # a contact never stored
    error = receipt_error(long)
    assert error is not None
    assert len(error) == MAX_RECEIPT_ERROR  # fits deliveries.receipt_error
