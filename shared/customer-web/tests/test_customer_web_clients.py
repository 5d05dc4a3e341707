"""Who a client is to the rate limits, and whether it asks a link for JSON."""

from __future__ import annotations

import pytest
from complaint_customer_web.clients import client_of, wants_json


@pytest.mark.parametrize(
    ("address", "client"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),  # the same subscriber
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("", "unknown"),
        (None, "unknown"),
        ("not an address", "unknown"),
    ],
)
def test_clients_count_by_address_or_ipv6_network(address: str | None, client: str) -> None:
    assert client_of(address) == client


@pytest.mark.parametrize(
    ("accept", "json"),
    [
        ("application/json", True),
        ("application/json, */*;q=0.1", True),
        ("text/html,application/xhtml+xml,application/json;q=0.9", False),  # a browser
        ("*/*", False),
        ("", False),
        (None, False),
    ],
)
def test_only_a_client_asking_for_json_and_not_html_gets_json(
    accept: str | None, json: bool
) -> None:
    assert wants_json(accept) is json
