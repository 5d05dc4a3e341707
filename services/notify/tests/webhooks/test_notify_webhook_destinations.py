"""SSRF rules: only public addresses of http(s) URLs without credentials, unless allowed."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st
from notify.webhooks.domain.destinations import (
    DestinationPolicy,
    IPAddress,
    Refusal,
    Target,
    address_kind,
    check_addresses,
    check_destination,
    check_url,
    literal_address,
    redirect_target,
)

OPEN = DestinationPolicy()
DEV = DestinationPolicy(
    allowed_networks=(
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
)
PUBLIC_V4 = ipaddress.ip_address("93.184.215.14")
PUBLIC_V6 = ipaddress.ip_address("2606:2800:21f:cb07:6820:80da:af6b:8b2c")


def _in(cidr: str) -> st.SearchStrategy[IPAddress]:
    net = ipaddress.ip_network(cidr)
    return st.integers(min_value=0, max_value=net.num_addresses - 1).map(
        lambda i: net.network_address + i
    )


def _mapped(v4: ipaddress.IPv4Address) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address(f"::ffff:{v4}")


def _sixtofour(v4: ipaddress.IPv4Address) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address((0x2002 << 112) | (int(v4) << 80) | 1)


def _nat64(v4: ipaddress.IPv4Address) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address(int(ipaddress.IPv6Address("64:ff9b::")) | int(v4))


KINDS: dict[str, list[str]] = {
    "unspecified": ["0.0.0.0/8", "::/128"],
    "loopback": ["127.0.0.0/8", "::1/128"],
    "private": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
    "shared": ["100.64.0.0/10"],
    "link_local": ["169.254.0.0/16", "fe80::/10"],
    "multicast": ["224.0.0.0/4", "ff00::/8"],
    "reserved": ["240.0.0.0/4", "192.0.2.0/24", "198.18.0.0/15", "2001:db8::/32", "fec0::/10"],
}
V4_KINDS = {kind: [c for c in cidrs if ":" not in c] for kind, cidrs in KINDS.items()}


@pytest.mark.parametrize(
    ("kind", "cidr"), [(kind, cidr) for kind, cidrs in KINDS.items() for cidr in cidrs]
)
@given(data=st.data())
def test_every_address_of_a_refused_kind_is_refused(
    kind: str, cidr: str, data: st.DataObject
) -> None:
    address = data.draw(_in(cidr))
    refusal = check_addresses([address], OPEN)
    assert refusal is not None
    assert refusal.code == kind
    assert str(address) not in refusal.detail  # the detail never names the address


@pytest.mark.parametrize(
    ("kind", "cidr"), [(kind, cidr) for kind, cidrs in V4_KINDS.items() for cidr in cidrs]
)
@given(data=st.data())
def test_ipv6_forms_of_a_refused_ipv4_address_are_refused_alike(
    kind: str, cidr: str, data: st.DataObject
) -> None:
    v4 = data.draw(_in(cidr))
    assert isinstance(v4, ipaddress.IPv4Address)
    for wrapped in (_mapped(v4), _sixtofour(v4), _nat64(v4)):
        refusal = check_addresses([wrapped], OPEN)
        assert refusal is not None
        assert refusal.code == kind
        assert "IPv6 form" in refusal.detail


@pytest.mark.parametrize(
    "address", ["169.254.169.254", "::ffff:169.254.169.254", "fd00:ec2::254", "100.100.100.200"]
)
def test_cloud_metadata_addresses_are_refused(address: str) -> None:
    assert check_addresses([ipaddress.ip_address(address)], OPEN) is not None


@given(st.ip_addresses(v=4))
def test_an_ipv4_address_is_allowed_only_when_python_calls_it_global(
    address: ipaddress.IPv4Address,
) -> None:
    refused = check_addresses([address], OPEN) is not None
    if not address.is_global:
        assert refused
    if refused:
        assert address_kind(address) is not None


@given(st.ip_addresses(v=6))
def test_an_ipv6_address_outside_global_unicast_is_refused(
    address: ipaddress.IPv6Address,
) -> None:
    # IPv4-mapped and NAT64 forms wrap an IPv4 address and are judged by it (tested above).
    wraps_v4 = address.ipv4_mapped is not None or address in ipaddress.ip_network("64:ff9b::/96")
    if address not in ipaddress.ip_network("2000::/3") and not wraps_v4:
        assert check_addresses([address], OPEN) is not None


@pytest.mark.parametrize("address", [PUBLIC_V4, PUBLIC_V6, _mapped(PUBLIC_V4)])  # type: ignore[arg-type]
def test_public_addresses_are_allowed(address: IPAddress) -> None:
    assert check_addresses([address], OPEN) is None


def test_one_bad_address_among_good_ones_refuses_the_destination() -> None:
    loopback = ipaddress.ip_address("127.0.0.1")
    refusal = check_addresses([PUBLIC_V4, loopback, PUBLIC_V6], OPEN)
    assert refusal is not None
    assert refusal.code == "loopback"


def test_a_host_that_resolved_to_nothing_is_refused() -> None:
    assert check_addresses([], OPEN) == Refusal(
        "unresolved", "The URL's host does not resolve to any address."
    )


@given(st.one_of(_in("127.0.0.0/8"), st.just(ipaddress.ip_address("::1"))))
def test_the_allow_list_lets_its_networks_through(address: IPAddress) -> None:
    assert check_addresses([address], DEV) is None
    if isinstance(address, ipaddress.IPv4Address):
        assert check_addresses([_mapped(address)], DEV) is None


def test_the_allow_list_allows_nothing_else() -> None:
    for text in ("10.0.0.1", "169.254.169.254", "::ffff:10.0.0.1", "fe80::1"):
        assert check_addresses([ipaddress.ip_address(text)], DEV) is not None


# -- the URL


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.com/hook", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://example.com", "scheme"),
        ("example.com/hook", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("http://", "no_host"),
        ("https:///path", "no_host"),
        ("http://user:pw@example.com/", "credentials"),
        ("http://user@example.com/", "credentials"),
        ("http://@example.com/", "credentials"),
        ("https://example.com@127.0.0.1/", "credentials"),
        ("http://example.com:0/", "port"),
        ("http://example.com:65536/", "malformed"),
        ("http://example.com:http/", "malformed"),
        ("http://[::1/", "malformed"),
        ("http://exa mple.com/", "malformed"),
        ("http://example.com/\r\nX-Injected: 1", "malformed"),
        ("https://example.com/" + "a" * 2048, "too_long"),
    ],
)
def test_urls_breaking_a_rule_are_refused(url: str, code: str) -> None:
    refusal = check_url(url, OPEN)
    assert isinstance(refusal, Refusal)
    assert refusal.code == code
    assert refusal.detail.endswith(".")


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("https://example.com/hooks", Target("https", "example.com", 443)),
        ("HTTP://Example.COM:8080/x?y=1", Target("http", "example.com", 8080)),
        ("http://[2606:2800::1]/", Target("http", "2606:2800::1", 80)),
    ],
)
def test_good_urls_give_what_to_resolve(url: str, target: Target) -> None:
    assert check_url(url, OPEN) == target


def test_the_ports_can_be_restricted() -> None:
    policy = DestinationPolicy(allowed_ports=frozenset({443, 8443}))
    assert isinstance(check_url("https://example.com:8443/", policy), Target)
    refusal = check_url("https://example.com:22/", policy)
    assert isinstance(refusal, Refusal)
    assert refusal.detail == "The URL's port must be one of: 443, 8443."


def test_an_ip_literal_is_its_own_resolution() -> None:
    assert literal_address("::1") == ipaddress.ip_address("::1")
    assert literal_address("example.com") is None


def test_check_destination_applies_both_rules() -> None:
    assert check_destination("https://example.com/", [PUBLIC_V4], OPEN) is None
    refusal = check_destination("ftp://example.com/", [PUBLIC_V4], OPEN)
    assert refusal is not None
    assert refusal.code == "scheme"
    refusal = check_destination("https://example.com/", [ipaddress.ip_address("10.1.2.3")], OPEN)
    assert refusal is not None
    assert refusal.code == "private"


def test_a_redirect_target_is_checked_by_the_same_rule() -> None:
    target = redirect_target("https://example.com/hooks", "http://169.254.169.254/latest/")
    refusal = check_destination(target, [ipaddress.ip_address("169.254.169.254")], OPEN)
    assert refusal is not None
    assert refusal.code == "link_local"
    assert redirect_target("https://example.com/a/b", "/c") == "https://example.com/c"
    relative = redirect_target("https://example.com/a/b", "//internal/")
    assert isinstance(check_url(relative, OPEN), Target)  # same rule, then the addresses
