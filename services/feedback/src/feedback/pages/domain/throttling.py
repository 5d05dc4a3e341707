"""The pages' rate limits: which limits a request counts against, and under which keys.
Every action counts per link (a script hammering one survey) and per client address (one
client trying many links, or guessing tokens at ``/s/`` and ``/n/``).

Client limits are generous on purpose: mobile networks put many customers behind one
carrier address (CGNAT); an IPv6 client counts by its /64 network (what one subscriber
gets; :func:`complaint_customer_web.clients.client_of`). Link keys never hold a token:
the link paths count by the token's hash, the pages by the request id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Final, Literal

Action = Literal["open", "view", "answer", "opt_out"]
ACTIONS: Final[tuple[Action, ...]] = ("open", "view", "answer", "opt_out")
DEFAULT_LIMITS: Final[dict[str, str]] = {
    "open.link": "30/minute",
    "open.client": "60/minute",
    "view.link": "60/minute",
    "view.client": "300/minute",
    "answer.link": "10/10 minutes",
    "answer.client": "60/10 minutes",
    "opt_out.link": "5/hour",
    "opt_out.client": "30/hour",
}


def limits_with(overrides: Mapping[str, str]) -> dict[str, str]:
    """The defaults with a deployment's overrides; an unknown key is a configuration
    mistake (ValueError at start), not a silently ignored limit."""
    unknown = sorted(set(overrides) - set(DEFAULT_LIMITS))
    if unknown:
        raise ValueError(f"unknown rate limit(s) {unknown}; known: {sorted(DEFAULT_LIMITS)}")
    return {**DEFAULT_LIMITS, **overrides}


def link_of_token(token: str) -> str:
    """What a link path counts under: a hash, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def rate_keys(action: Action, *, link: str, client: str) -> list[tuple[str, str]]:
    """``(limit name, storage key)`` pairs, per link first, then per client."""
    return [
        (f"{action}.link", f"feedback-pages:{action}:link:{link}"),
        (f"{action}.client", f"feedback-pages:{action}:client:{client}"),
    ]
