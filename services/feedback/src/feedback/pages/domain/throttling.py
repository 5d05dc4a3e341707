"""The pages' rate limits: which limits a request counts against, and under which keys.
Every action counts per link (a script hammering one survey) and per client address (one
client trying many links, or guessing tokens at ``/s/`` and ``/n/``).

Client limits are generous on purpose: mobile networks put many customers behind one
carrier address (CGNAT); an IPv6 client counts by its /64 network (what one subscriber
gets; :func:`complaint_customer_web.clients.client_of`). Link keys never hold a token:
the link paths count by the token's hash, the pages by the request id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

from complaint_customer_web import ratekeys
from complaint_customer_web.ratekeys import link_of_token

__all__ = ["DEFAULT_LIMITS", "Action", "limits_with", "link_of_token", "rate_keys"]

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
    """The defaults with a deployment's overrides (an unknown key: ValueError at start)."""
    return ratekeys.limits_with(DEFAULT_LIMITS, overrides)


def rate_keys(action: Action, *, link: str, client: str) -> list[tuple[str, str]]:
    """``(limit name, storage key)`` pairs, per link first, then per client."""
    return ratekeys.rate_keys("feedback-pages", action, link=link, client=client)
