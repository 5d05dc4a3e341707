"""Bad input gets a clear 4xx problem+json with field details: never a 500, never stored."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from harness import without_expected
from hypothesis import HealthCheck, given, settings

from conftest import Platform

PROBLEM_JSON = "application/problem+json"


@pytest.fixture(scope="module")
def valid_body(sample_complaints: list[dict[str, Any]]) -> dict[str, Any]:
    return without_expected(sample_complaints[0])


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    return body


def _fields(problem: dict[str, Any]) -> set[str]:
    return {error["field"] for error in problem.get("errors", [])}


def test_missing_fields_are_named(platform: Platform) -> None:
    with platform.client() as client:
        problem = _problem(client.post("/v1/complaints", json={"channel": "web"}), 422)
    assert {"customer", "subject", "description"} <= _fields(problem)
    assert all(e["pointer"].startswith("/") for e in problem["errors"])


def test_wrong_types_and_unknown_channel(platform: Platform, valid_body: dict[str, Any]) -> None:
    with platform.client() as client:
        wrong = {**valid_body, "channel": "fax", "attachments": "none", "occurred_at": 5}
        problem = _problem(client.post("/v1/complaints", json=wrong), 422)
    assert {"channel", "attachments"} <= _fields(problem)


def test_bounds_are_enforced(platform: Platform, valid_body: dict[str, Any]) -> None:
    with platform.client() as client:
        long_text = {**valid_body, "description": "长" * 10_001}
        assert "description" in _fields(
            _problem(client.post("/v1/complaints", json=long_text), 422)
        )
        many = {
            **valid_body,
            "attachments": [
                {"url": f"https://files.example.com/{i}.png", "media_type": "image/png", "size": 1}
                for i in range(11)
            ],
        }
        assert "attachments" in _fields(_problem(client.post("/v1/complaints", json=many), 422))
        bad_customer = {**valid_body, "customer": {"tier": "vip"}}
        assert "customer" in _fields(
            _problem(client.post("/v1/complaints", json=bad_customer), 422)
        )


def test_oversized_body_is_413(platform: Platform, valid_body: dict[str, Any]) -> None:
    huge = {**valid_body, "description": "x" * 400_000}
    with platform.client() as client:
        _problem(client.post("/v1/complaints", json=huge), 413)

        def chunks() -> Any:  # no Content-Length: the limit must hold while streaming
            for _ in range(40):
                yield b"x" * 10_000

        streamed = client.post(
            "/v1/complaints", content=chunks(), headers={"content-type": "application/json"}
        )
        _problem(streamed, 413)


def test_invalid_utf8_and_broken_json(platform: Platform) -> None:
    with platform.client() as client:
        headers = {"content-type": "application/json"}
        body = b'{"channel": "web", "subject": "\xff\xfe"}'
        _problem(client.post("/v1/complaints", content=body, headers=headers), 400)
        _problem(client.post("/v1/complaints", content=b"{not json", headers=headers), 400)


def test_api_key_is_required_and_checked(platform: Platform, valid_body: dict[str, Any]) -> None:
    anonymous = httpx.Client(base_url=platform.intake.url, timeout=10)
    problem = _problem(anonymous.post("/v1/complaints", json=valid_body), 401)
    assert "X-API-Key" in problem["detail"]
    _problem(
        anonymous.post("/v1/complaints", json=valid_body, headers={"X-API-Key": "ck_wrong"}), 401
    )


def _content_type(response: Any) -> str:
    value = response.headers.get("content-type") or ""
    return str(value[0] if isinstance(value, list) else value)  # schemathesis: lists


def test_schemathesis_no_5xx_and_errors_are_problem_json(platform: Platform) -> None:
    """Schema-driven fuzzing of every operation of intake's OpenAPI document, valid and
    invalid data alike: never a 5xx, and every error a problem document."""
    schema = schemathesis.openapi.from_url(f"{platform.intake.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert any(op.path == "/v1/complaints" and op.method.upper() == "POST" for op in operations)
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=40,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case: Any) -> None:
            response = case.call(headers={"X-API-Key": platform.api_key}, timeout=15)
            where = f"{case.method} {case.formatted_path}"
            if response.status_code >= 500:
                failures.append(f"{where}: {response.status_code} {response.text[:200]}")
            elif response.status_code >= 400 and _content_type(response) != PROBLEM_JSON:
                failures.append(
                    f"{where}: {response.status_code} not problem+json: {response.headers}"
                    f" {response.text[:200]}"
                )

        check()
    assert not failures, failures[:10]
