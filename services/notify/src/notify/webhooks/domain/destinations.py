"""Where notify may send a webhook: SSRF rules for a subscriber's URL (no I/O).

Follows OWASP's "Server-Side Request Forgery Prevention Cheat Sheet" (case 2: the destination
is user-supplied, so validate the URL and every address it resolves to) and the IANA IPv4 and
IPv6 Special-Purpose Address Registries (RFC 6890 and its updates).

:func:`check_url` is the syntactic rule: scheme ``http`` or ``https``, a host, no user name or
password, no whitespace or control character, a port from 1 to 65535 (and in the policy's
set when it names one), at most 2048 characters. :func:`check_addresses` is the network rule:
every address the host resolved to must be a public unicast address; it refuses, in this
order of naming,

- unspecified (0.0.0.0/8, ::/128), loopback (127.0.0.0/8, ::1/128),
- private (10/8, 172.16/12, 192.168/16, fc00::/7), shared CGNAT (100.64.0.0/10),
- link-local (169.254.0.0/16, cloud metadata 169.254.169.254 included; fe80::/10),
- multicast (224.0.0.0/4, ff00::/8),
- reserved: the registries' other non-global blocks (240.0.0.0/4 and broadcast,
  documentation, benchmarking, 192.0.0.0/24, NAT64 local-use, discard, IETF assignments incl.
  Teredo, site-local fec0::/10), every IPv6 address outside global unicast 2000::/3, and
  anything Python's :mod:`ipaddress` does not call global,
- the same kinds inside IPv6 wrappers that reach an IPv4 host: IPv4-mapped ``::ffff:a.b.c.d``,
  6to4 ``2002:aabb:ccdd::/48`` and NAT64 ``64:ff9b::/96``,

unless the address (or the IPv4 address it wraps) lies in one of the policy's
``allowed_networks`` (e.g. 127.0.0.0/8 and ::1/128 for ``make up``). A refusal carries a
sentence for a problem+json ``detail``; it names the kind of address, never the address, so a
subscriber learns nothing of the internal network.

The adapter's duties, which these rules rely on:

- resolve the host itself and call :func:`check_destination` with all the addresses it got,
  then connect to one of exactly those addresses (pin it), so a second DNS answer cannot
  point elsewhere (DNS rebinding);
- never follow redirects blindly: take the ``Location`` of a 3xx, make it absolute against
  the request URL (:func:`redirect_target`), resolve its host and check it with the same
  :func:`check_destination`, and follow a bounded number of hops at most.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import urljoin, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_URL_LENGTH: Final = 2048
SCHEMES: Final = frozenset({"http", "https"})

AddressKind = Literal[
    "unspecified", "loopback", "private", "shared", "link_local", "multicast", "reserved"
]
RefusalCode = Literal[
    "too_long", "malformed", "scheme", "no_host", "credentials", "port", "unresolved", AddressKind
]

_KIND_WORDS: Final[dict[AddressKind, str]] = {
    "unspecified": "an unspecified address",
    "loopback": "a loopback address",
    "private": "a private address",
    "shared": "a shared (carrier-grade NAT) address",
    "link_local": "a link-local address",
    "multicast": "a multicast address",
    "reserved": "a reserved or non-public address",
}


def _nets(*cidrs: str) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(c) for c in cidrs)


# Checked in this order; the first match names the kind.
_KINDS: Final[tuple[tuple[AddressKind, tuple[IPNetwork, ...]], ...]] = (
    ("unspecified", _nets("0.0.0.0/8", "::/128")),
    ("loopback", _nets("127.0.0.0/8", "::1/128")),
    ("private", _nets("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")),
    ("shared", _nets("100.64.0.0/10")),
    ("link_local", _nets("169.254.0.0/16", "fe80::/10")),
    ("multicast", _nets("224.0.0.0/4", "ff00::/8")),
    (
        "reserved",
        _nets(
            "192.0.0.0/24",
            "192.0.2.0/24",
            "198.18.0.0/15",
            "198.51.100.0/24",
            "203.0.113.0/24",
            "240.0.0.0/4",
            "100::/64",
            "2001::/23",
            "2001:db8::/32",
            "64:ff9b:1::/48",
            "fec0::/10",
        ),
    ),
)
_GLOBAL_UNICAST_V6: Final = ipaddress.IPv6Network("2000::/3")
_SIXTOFOUR: Final = ipaddress.IPv6Network("2002::/16")
_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")


@dataclass(frozen=True, slots=True)
class DestinationPolicy:
    """Settings: networks allowed despite the rules, and the ports allowed (None: any)."""

    allowed_networks: tuple[IPNetwork, ...] = ()
    allowed_ports: frozenset[int] | None = None


@dataclass(frozen=True, slots=True)
class Target:
    """A URL that passed :func:`check_url`: what the adapter resolves and connects to."""

    scheme: Literal["http", "https"]
    host: str  # lower-cased; an IPv6 literal without its brackets
    port: int  # explicit or the scheme's default


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a destination is refused; ``detail`` is fit for a problem+json ``detail``."""

    code: RefusalCode
    detail: str


def check_url(url: str, policy: DestinationPolicy) -> Target | Refusal:
    """The URL's scheme, host and port, or the first rule it breaks."""
    if len(url) > MAX_URL_LENGTH:
        return Refusal("too_long", f"The URL is longer than {MAX_URL_LENGTH} characters.")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        return Refusal("malformed", "The URL contains whitespace or a control character.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return Refusal("malformed", "The URL cannot be parsed, or its port is not a number.")
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        return Refusal("scheme", "Only http and https URLs are allowed.")
    # Any "@" in the authority is user information: even "http://@host" has username "".
    if parts.username is not None or parts.password is not None:
        return Refusal("credentials", "The URL must not contain a user name or password.")
    host = parts.hostname
    if not host:
        return Refusal("no_host", "The URL has no host.")
    effective = port if port is not None else (443 if scheme == "https" else 80)
    if not 1 <= effective <= 65535:
        return Refusal("port", "The URL's port must be from 1 to 65535.")
    if policy.allowed_ports is not None and effective not in policy.allowed_ports:
        allowed = ", ".join(str(p) for p in sorted(policy.allowed_ports))
        return Refusal("port", f"The URL's port must be one of: {allowed}.")
    return Target("https" if scheme == "https" else "http", host, effective)


def literal_address(host: str) -> IPAddress | None:
    """The address when the host is an IP literal (nothing to resolve), else None."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def address_kind(address: IPAddress) -> AddressKind | None:
    """The kind of non-public address ``address`` is (wrappers looked through), or None."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return address_kind(embedded)
    for kind, networks in _KINDS:
        if any(address in net for net in networks):
            return kind
    if isinstance(address, ipaddress.IPv6Address) and address not in _GLOBAL_UNICAST_V6:
        return "reserved"
    if not address.is_global:
        return "reserved"
    return None


def check_addresses(addresses: Iterable[IPAddress], policy: DestinationPolicy) -> Refusal | None:
    """None when every address may be called; otherwise the refusal for the first that may not.

    All of them are checked, not one: the adapter may connect to any of them.
    """
    seen = False
    for address in addresses:
        seen = True
        if _allowed(address, policy):
            continue
        kind = address_kind(address)
        if kind is not None:
            wrapped = " (inside an IPv6 form)" if _embedded_ipv4(address) is not None else ""
            return Refusal(kind, f"The URL's host resolves to {_KIND_WORDS[kind]}{wrapped}.")
    if not seen:
        return Refusal("unresolved", "The URL's host does not resolve to any address.")
    return None


def check_destination(
    url: str, addresses: Iterable[IPAddress], policy: DestinationPolicy
) -> Refusal | None:
    """The whole rule for a subscription URL or a redirect target: None when allowed.

    ``addresses`` are what the URL's host resolved to (for an IP literal, the literal).
    """
    target = check_url(url, policy)
    if isinstance(target, Refusal):
        return target
    return check_addresses(addresses, policy)


def redirect_target(request_url: str, location: str) -> str:
    """The absolute URL a ``Location`` header points to; check it before following it."""
    return urljoin(request_url, location.strip())


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _SIXTOFOUR:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _allowed(address: IPAddress, policy: DestinationPolicy) -> bool:
    candidates: list[IPAddress] = [address]
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        candidates.append(embedded)
    return any(
        c.version == net.version and c in net for c in candidates for net in policy.allowed_networks
    )
