"""How staff's messages are signed to the customer (§3, the customer conversation).

The customer sees a name, never a user id: the agent's display name when an administrator
gave one (``PUT /v1/admin/agents/{id}`` or ``ROUTING_AGENTS``); else the name of the case's
team when an administrator named it (a team created implicitly, named after its id, has
no name worth showing); else nothing, and whoever shows the message signs it with a
neutral label ("客服" / "Customer Service").
"""

from __future__ import annotations

import re
from typing import Final

from complaint_contracts.privacy import find_contacts

MAX_DISPLAY_NAME: Final = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_display_name(value: str) -> str:
    """A display name as given, stripped: 1-100 printable characters on one line and no
    phone number or e-mail address (it goes to customers and into events). ValueError
    otherwise, with what is wrong."""
    name = value.strip()
    if not name:
        raise ValueError("must not be blank")
    if len(name) > MAX_DISPLAY_NAME:
        raise ValueError(f"at most {MAX_DISPLAY_NAME} characters")
    if _CONTROL.search(name):
        raise ValueError("must be one line without control characters")
    if find_contacts(name):
        raise ValueError("must not contain a phone number or an e-mail address")
    return name


def sender_name(
    *, display_name: str | None, team_id: str | None, team_name: str | None
) -> str | None:
    """The name a message to the customer is signed with; None: a neutral label."""
    if display_name and display_name.strip():
        return display_name.strip()
    named = (team_name or "").strip()
    if named and named != team_id:
        return named
    return None
