"""The HTTP side of webhooks: an httpx client that can only reach allowed addresses.

SSRF (OWASP's cheat sheet, case 2) is checked where the connection is made, not before it:
the client's connection pool runs on a network backend that resolves the host itself, checks
EVERY address it got (:func:`~notify.webhooks.domain.destinations.check_addresses`) and then
connects to one of exactly those addresses. Nothing resolves the name a second time, so a
DNS answer that changes between the check and the connection (DNS rebinding) cannot move the
request elsewhere. The connection is made to the IP while the request keeps its URL: the
``Host`` header, TLS's SNI and the certificate check all use the host name (httpcore starts
TLS on the stream the backend returns, with the URL's host as ``server_hostname``).

A host name that cannot be encoded (an empty label as in ``a..b``, a label longer than 63
characters, an invalid IDNA form: the resolver and httpx raise ``UnicodeError``/``ValueError``
for them) is a ``malformed`` refusal, never an exception: 422 at creation, a recorded failure
when sending.

Redirects are never followed (a 3xx is a recorded failure naming its ``Location``), proxies
from the environment are ignored (a proxy would resolve the name itself), at most
:data:`MAX_BODY_BYTES` of an answer are read, and the whole request, a slowly trickled body
included, is bounded by the timeout.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

import httpcore
import httpx

from notify.webhooks.domain.destinations import (
    DestinationPolicy,
    IPAddress,
    Refusal,
    check_addresses,
    check_url,
    literal_address,
)

MAX_BODY_BYTES: Final = 1024
RESOLVE_TIMEOUT_S: Final = 10.0

Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """Every address the system resolver gives for ``host`` (an IP literal: itself)."""
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    # An IPv6 link-local answer may carry a zone ("fe80::1%eth0"); the address is what counts.
    found = (ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos)
    return list(dict.fromkeys(found))


MALFORMED_HOST: Final = Refusal("malformed", "The URL's host is not a valid host name.")


class DestinationRefused(Exception):
    """The URL, or an address its host resolved to, may not be called."""

    def __init__(self, refusal: Refusal):
        super().__init__(refusal.detail)
        self.refusal = refusal


async def check_destination(url: str, policy: DestinationPolicy, resolver: Resolver) -> None:
    """The API's check of a new subscription's URL: its form, then every address its host
    resolves to now; :class:`DestinationRefused` when either is refused."""
    target = check_url(url, policy)
    if isinstance(target, Refusal):
        raise DestinationRefused(target)
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_S):  # a request must not wait on DNS for ever
            addresses = await resolver(target.host, target.port)
    except ValueError:  # UnicodeError included: the name cannot be encoded (IDNA)
        raise DestinationRefused(MALFORMED_HOST) from None
    except (OSError, TimeoutError):
        addresses = []
    refusal = check_addresses(addresses, policy)
    if refusal is not None:
        raise DestinationRefused(refusal)


class _CheckedBackend(httpcore.AsyncNetworkBackend):
    """Resolve once, check every address, connect to a checked one (see the module)."""

    def __init__(self, policy: DestinationPolicy, resolver: Resolver):
        self._policy = policy
        self._resolver = resolver
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await self._resolver(host, port)
        except ValueError:  # UnicodeError included: the name cannot be encoded (IDNA)
            raise DestinationRefused(MALFORMED_HOST) from None
        except OSError as exc:
            raise httpcore.ConnectError(f"the host does not resolve: {exc}") from None
        refusal = check_addresses(addresses, self._policy)
        if refusal is not None:
            raise DestinationRefused(refusal)
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:
                failure = exc
        raise failure or httpcore.ConnectError("no address to connect to")

    async def connect_unix_socket(  # httpcore's interface
        self,
        path: str,  # noqa: ARG002
        timeout: float | None = None,  # noqa: ARG002, ASYNC109
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,  # noqa: ARG002
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks never use a Unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class CheckedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (request and error mapping), with its pool on the checking
    backend: httpx takes no network backend argument, so the pool it built is replaced by
    the same pool with one."""

    def __init__(self, *, policy: DestinationPolicy, resolver: Resolver, max_connections: int):
        limits = httpx.Limits(max_connections=max_connections)
        super().__init__(trust_env=False, retries=0, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            retries=0,
            network_backend=_CheckedBackend(policy, resolver),
        )


@dataclass(frozen=True, slots=True)
class Answered:
    status: int
    retry_after: str | None
    location: str | None
    body: bytes  # at most MAX_BODY_BYTES
    latency_ms: int


@dataclass(frozen=True, slots=True)
class NoAnswer:
    kind: Literal["timeout", "connection"]
    detail: str
    latency_ms: int


@dataclass(frozen=True, slots=True)
class Refused:
    detail: str


PostResult = Answered | NoAnswer | Refused


class WebhookClient:
    """Posts one webhook; never raises for what the network or the receiver does."""

    def __init__(
        self,
        *,
        policy: DestinationPolicy,
        timeout_s: float,
        max_connections: int,
        resolver: Resolver = system_resolver,
    ):
        self._policy = policy
        self._timeout_s = timeout_s
        self._client = httpx.AsyncClient(
            transport=CheckedTransport(
                policy=policy, resolver=resolver, max_connections=max_connections
            ),
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(timeout_s),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def post(self, url: str, *, body: bytes, headers: Mapping[str, str]) -> PostResult:
        target = check_url(url, self._policy)
        if isinstance(target, Refusal):
            return Refused(target.detail)
        started = time.monotonic()

        def elapsed() -> int:
            return round((time.monotonic() - started) * 1000)

        try:
            # The whole exchange, not only each read: a body trickled byte by byte ends too.
            async with asyncio.timeout(self._timeout_s):
                async with self._client.stream(
                    "POST", url, content=body, headers=_request_headers(headers)
                ) as response:
                    excerpt = await _read_at_most(response, MAX_BODY_BYTES)
        except DestinationRefused as exc:
            return Refused(exc.refusal.detail)
        except (httpx.InvalidURL, UnicodeError):  # httpx cannot encode the host (IDNA)
            return Refused(MALFORMED_HOST.detail)
        except (TimeoutError, httpx.TimeoutException):
            return NoAnswer("timeout", f"no answer within {self._timeout_s:g} s", elapsed())
        except httpx.TransportError as exc:
            return NoAnswer("connection", f"{type(exc).__name__}: {exc}"[:300], elapsed())
        return Answered(
            status=response.status_code,
            retry_after=response.headers.get("retry-after"),
            location=response.headers.get("location"),
            body=excerpt,
            latency_ms=elapsed(),
        )


def _request_headers(headers: Mapping[str, str]) -> dict[str, str]:
    # identity: the excerpt is read raw, so a compressed answer cannot expand past the bound.
    return {**headers, "accept-encoding": "identity", "user-agent": "opencomplaints-webhooks"}


async def _read_at_most(response: httpx.Response, limit: int) -> bytes:
    """The first ``limit`` bytes of the body; the rest is never read (the connection is
    closed rather than drained)."""
    kept = bytearray()
    async for chunk in response.aiter_raw():
        kept += chunk[: limit - len(kept)]
        if len(kept) >= limit:
            break
    return bytes(kept)
