"""The case's tools beside its state machine, each checked and then sent to routing with
the user's token: a lead's escalation request and the contact reveal, and linking a copy
to its original by hand (or undoing it). Like every action (:mod:`console.cases.service`)
the ones that change the case carry the version the page was drawn from (``If-Match``).

Refusals are routing's (``Forbidden``, ``NotFound``, ``Conflict`` such as ``stale-case``
or a level not above the current one, ``InvalidInput``) or the console's own checks made
first (:class:`FormInvalid`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from console.backends.http import BearerTokens
from console.backends.routing_api import RoutingApi
from console.cases.domain.contact import Contact, contact_of
from console.cases.domain.forms import (
    MAX_DUPLICATE_REASON,
    MAX_ESCALATION_REASON,
    MAX_REVEAL_REASON,
    FieldProblem,
    FormInvalid,
    check_text,
    clean,
    require_valid,
)
from console.cases.service import COMPLAINT_ID, checked_id

# A case reference as people write it (C-20261206-000042); anything else is taken for an id.
REFERENCE: Final = re.compile(r"^[A-Za-z]{1,10}-[A-Za-z0-9-]{1,60}$")
LEVELS: Final = frozenset({"1", "2", "3"})


async def escalate(
    *,
    routing: RoutingApi,
    tokens: BearerTokens,
    complaint_id: str,
    version: int | None,
    level: str,
    reason: str,
) -> None:
    """Ask for a higher escalation level (a lead's or a manager's): routing accepts it
    (202) and the level changes once sla-watch, which owns the ladder, has recorded it."""
    problems = check_text("reason", reason, limit=MAX_ESCALATION_REASON)
    chosen = int(level) if level.strip() in LEVELS else None
    if chosen is None:
        problems.append(FieldProblem("level", "choice" if level.strip() else "required"))
    require_valid(problems)
    await routing.command(
        tokens=tokens,
        complaint_id=checked_id(complaint_id),
        command="escalate",
        body={"level": chosen, "reason": reason.strip()},
        version=version,
    )


async def original_id(
    *, routing: RoutingApi, tokens: BearerTokens, complaint_id: str, given: str
) -> str:
    """The original's complaint id from what the user typed: an id as it is, a reference
    (``C-20261206-000042``) looked up with routing's search among the cases the user sees
    (the console's own read model keeps no references)."""
    text = given.strip()
    if not text:
        raise FormInvalid([FieldProblem("original", "required")])
    if COMPLAINT_ID.fullmatch(text):
        found: str | None = text.lower()
    elif REFERENCE.fullmatch(text):
        found = await _by_reference(routing, tokens=tokens, reference=text)
    else:
        raise FormInvalid([FieldProblem("original", "pattern")])
    if found is None:
        raise FormInvalid([FieldProblem("original", "unknown_case")])
    if found == complaint_id.lower():
        raise FormInvalid([FieldProblem("original", "same_case")])
    return found


async def _by_reference(routing: RoutingApi, *, tokens: BearerTokens, reference: str) -> str | None:
    answer: Any = await routing.list_cases(tokens=tokens, params=[("q", reference), ("limit", "5")])
    items = answer.get("items") if isinstance(answer, Mapping) else None
    for item in items if isinstance(items, list) else []:
        if isinstance(item, Mapping) and str(item.get("reference", "")).upper() == (
            reference.upper()
        ):
            found = str(item.get("complaint_id", ""))
            return found.lower() if COMPLAINT_ID.fullmatch(found) else None
    return None


async def link_duplicate(
    *,
    routing: RoutingApi,
    tokens: BearerTokens,
    complaint_id: str,
    version: int | None,
    original: str,
    reason: str,
) -> None:
    """Link the case as a copy of ``original`` (a reference or an id) by hand."""
    case_id = checked_id(complaint_id)
    problems = check_text("reason", reason, limit=MAX_DUPLICATE_REASON)
    try:
        found = await original_id(
            routing=routing, tokens=tokens, complaint_id=case_id, given=original
        )
    except FormInvalid as exc:  # both fields' problems at once
        raise FormInvalid([*exc.problems, *problems]) from None
    require_valid(problems)
    await routing.command(
        tokens=tokens,
        complaint_id=case_id,
        command="duplicate-of",
        body={"original_id": found, "reason": reason.strip()},
        version=version,
    )


async def unlink_duplicate(
    *,
    routing: RoutingApi,
    tokens: BearerTokens,
    complaint_id: str,
    version: int | None,
    reason: str,
) -> None:
    """Undo a duplicate link: the case is worked on its own again."""
    require_valid(check_text("reason", reason, limit=MAX_DUPLICATE_REASON))
    await routing.command(
        tokens=tokens,
        complaint_id=checked_id(complaint_id),
        command="duplicate-of/unlink",
        body=clean({"reason": reason}),
        version=version,
    )


async def reveal_contact(
    *, routing: RoutingApi, tokens: BearerTokens, complaint_id: str, reason: str
) -> Contact:
    """The customer's raw contact, for a lead or manager who gives a reason (routing
    records who asked and why). Only returned: never stored, never logged."""
    require_valid(check_text("reason", reason, limit=MAX_REVEAL_REASON))
    answer = await routing.command(
        tokens=tokens,
        complaint_id=checked_id(complaint_id),
        command="contact/reveal",
        body=clean({"reason": reason}),
    )
    return contact_of(answer)
