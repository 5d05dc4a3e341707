"""Who a public page's client is, as rate limits count it, and what it asks for.

- :func:`client_of`: an IPv4 address, an IPv6 /64 network (what one subscriber gets, so
  cycling through one's own addresses gains nothing), or ``unknown`` (clients without an
  address share one count);
- :func:`wants_json`: a front end asking a link for JSON rather than a page (content
  negotiation; a browser always accepts ``text/html``).
"""

from __future__ import annotations

import ipaddress


def client_of(address: str | None) -> str:
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def wants_json(accept: str | None) -> bool:
    accept = (accept or "").lower()
    return "application/json" in accept and "text/html" not in accept
