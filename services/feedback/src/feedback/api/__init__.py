"""Feedback's routers: the customer's survey, and notify's internal API."""

from __future__ import annotations

from typing import Any

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
