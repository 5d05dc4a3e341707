"""Which rate limits a customer page's request counts against, and under which keys: the
rules every service's pages share (each service names its actions and default limits).

Every action counts per link (a script hammering one link) and per client address (one
client trying many links, or guessing tokens). Link keys never hold a token: a link path
counts by the token's hash (:func:`link_of_token`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping


def limits_with(defaults: Mapping[str, str], overrides: Mapping[str, str]) -> dict[str, str]:
    """The defaults with a deployment's overrides; an unknown key is a configuration
    mistake (ValueError at start), not a silently ignored limit."""
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        raise ValueError(f"unknown rate limit(s) {unknown}; known: {sorted(defaults)}")
    return {**defaults, **overrides}


def link_of_token(token: str) -> str:
    """What a link path counts under: a hash, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def rate_keys(namespace: str, action: str, *, link: str, client: str) -> list[tuple[str, str]]:
    """``(limit name, storage key)`` pairs, per link first, then per client."""
    return [
        (f"{action}.link", f"{namespace}:{action}:link:{link}"),
        (f"{action}.client", f"{namespace}:{action}:client:{client}"),
    ]
