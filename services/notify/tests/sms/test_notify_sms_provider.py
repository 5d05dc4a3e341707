"""The SMS request's guarantees and the outcome types (notify.sms.domain.provider)."""

from __future__ import annotations

import pytest
from notify.sms.domain.provider import SmsRequest


def request(**overrides: object) -> SmsRequest:
    fields: dict[str, object] = {
        "phone_number": "+8613812345678",
        "sign_name": "投诉平台",
        "template_code": "SMS_1",
        "template_params": {"reference": "C-1"},
        "out_id": "delivery-1",
    }
    fields.update(overrides)
    return SmsRequest(**fields)  # type: ignore[arg-type]


def test_a_valid_request_keeps_its_fields() -> None:
    made = request()
    assert made.phone_number == "+8613812345678"
    assert dict(made.template_params) == {"reference": "C-1"}
    assert made.rendered_text is None


@pytest.mark.parametrize("number", ["13812345678", "+0138", "+86 138", "", "+1234567890123456"])
def test_the_number_must_be_e164(number: str) -> None:
    with pytest.raises(ValueError, match=r"E\.164"):
        request(phone_number=number)


@pytest.mark.parametrize("name", ["sign_name", "template_code", "out_id"])
def test_names_and_the_out_id_must_not_be_empty(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        request(**{name: "  "})


def test_an_overlong_out_id_is_refused() -> None:
    with pytest.raises(ValueError, match="out_id"):
        request(out_id="x" * 257)


@pytest.mark.parametrize("params", [{"a": 1}, {1: "a"}])
def test_template_parameters_must_map_str_to_str(params: dict[object, object]) -> None:
    with pytest.raises(ValueError, match="str to str"):
        request(template_params=params)


def test_the_parameters_cannot_be_changed_afterwards() -> None:
    given = {"reference": "C-1"}
    made = request(template_params=given)
    given["reference"] = "changed"
    assert made.template_params["reference"] == "C-1"
    with pytest.raises(TypeError):
        made.template_params["reference"] = "x"  # type: ignore[index]
