"""The public pages' rate limits: which limits a request counts against, and under which
keys. Every action counts per link (a script hammering one complaint) and per client
address (one client trying many links, or guessing tokens at ``/t/``).

Client limits are generous on purpose: mobile networks in China put many customers
behind one carrier address (CGNAT). An IPv6 client counts by its /64 network, which is
what one subscriber gets. Link keys never hold a token: ``/t/`` counts by the token's
hash, the pages by the complaint id, the lost-link pages by the reference typed with the
contact's keyed hash (asking for a code) or the browser's recovery flow (entering it).
Who a client is comes from :func:`complaint_customer_web.clients.client_of`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

from complaint_customer_web import ratekeys
from complaint_customer_web.ratekeys import link_of_token

__all__ = ["DEFAULT_LIMITS", "Action", "limits_with", "link_of_token", "rate_keys"]

Action = Literal["open", "view", "message", "withdraw", "rotate", "recover", "verify"]
DEFAULT_LIMITS: Final[dict[str, str]] = {
    "open.link": "30/minute",
    "open.client": "60/minute",
    "view.link": "60/minute",
    "view.client": "300/minute",
    "message.link": "10/10 minutes",
    "message.client": "60/10 minutes",
    "withdraw.link": "5/hour",
    "withdraw.client": "30/hour",
    "rotate.link": "5/hour",
    "rotate.client": "30/hour",
    # Lost-link codes: "link" is the complaint's reference with the entered contact's keyed
    # hash (a customer's mailbox is not flooded, 5 codes × 5 attempts bound the guesses at
    # one complaint, and junk contacts typed with a reference spend their own count, never
    # the real contact's), then the code entries of one browser's flow.
    "recover.link": "5/hour",
    "recover.client": "20/hour",
    "verify.link": "10/10 minutes",
    "verify.client": "60/10 minutes",
}


def limits_with(overrides: Mapping[str, str]) -> dict[str, str]:
    """The defaults with a deployment's overrides (an unknown key: ValueError at start)."""
    return ratekeys.limits_with(DEFAULT_LIMITS, overrides)


def rate_keys(action: Action, *, link: str, client: str) -> list[tuple[str, str]]:
    """``(limit name, storage key)`` pairs, per link first, then per client."""
    return ratekeys.rate_keys("customer-pages", action, link=link, client=client)
