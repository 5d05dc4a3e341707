"""Stale-form protection: a case's version and the ``If-Match`` precondition of a command.

Every case carries a ``version`` that goes up by one with every change to the case (state,
priority, category, emotion, team, assignee, resolution, escalation level). An agent's form
shows the version it was drawn from; the command sends it back as ``If-Match: "7"`` and is
refused when the case moved on meanwhile, with what happened since, instead of acting on a
picture of the case that is no longer true. Without the header a command acts as before.

Decisions taken here:

- The version is an entity tag: ``"7"`` (the quotes may be left out); ``*`` matches any
  version (RFC 9110: "any current representation"). A list of tags, a weak tag or anything
  that is not a version number is malformed (422): the client has a bug, not a stale form.
- A stale command is a 409 ``stale-case`` (the brief's choice over HTTP's 412), naming the
  current version and the history entries written since the version sent.
- What does not change the case does not move the version: an SLA clock ticking, a customer
  message on a case not waiting for one, an internal note, a review task. A reply drafted
  before a note was added is not stale.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from complaint_runtime.errors import Conflict, InvalidInput, field_error

IF_MATCH: Final = "If-Match"
MAX_CHANGES: Final = 50  # the history entries a stale-case refusal lists at most
_TAG = re.compile(r'^(?:"(\d{1,9})"|(\d{1,9}))$')


def parse_if_match(value: str | None) -> int | None:
    """The version an ``If-Match`` header names; None when there is no header or it is
    ``*`` (no precondition). ``InvalidInput`` (422, field ``If-Match``) when malformed."""
    if value is None:
        return None
    text = value.strip()
    if text == "*":
        return None
    match = _TAG.fullmatch(text)
    if match is None:
        raise InvalidInput(
            'If-Match must name one case version, e.g. If-Match: "7" (the case\'s '
            "'version' or the ETag of its last answer).",
            title="Malformed If-Match",
            errors=[
                field_error(
                    IF_MATCH,
                    'one case version, e.g. "7"',
                    code="invalid_if_match",
                    location="header",
                )
            ],
        )
    return int(match.group(1) or match.group(2))


def etag(version: int) -> str:
    """The ``ETag`` of a case at ``version`` (what ``If-Match`` sends back)."""
    return f'"{version}"'


@dataclass(frozen=True, slots=True)
class CaseChange:
    """One history entry written since the version a stale command named."""

    action: str
    actor: str
    at: datetime
    version: int | None

    def as_member(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "actor": self.actor,
            "at": self.at.isoformat(),
            "version": self.version,
        }


class StaleCaseError(Conflict):
    """The command was decided on an older version of the case (409 ``stale-case``, with
    ``current_version``, ``expected_version`` and ``changes``)."""

    default_title = "The case changed"
    default_kind = "stale-case"

    def __init__(self, *, expected: int, current: int, changes: Sequence[CaseChange]) -> None:
        super().__init__(
            f"The case is at version {current}, the request was made on version {expected}: "
            "reload the case, look at what changed and decide again. Nothing was changed.",
            current_version=current,
            expected_version=expected,
            changes=[change.as_member() for change in changes],
        )


def is_stale(*, expected: int | None, current: int) -> bool:
    """Whether a command made on ``expected`` (None: no precondition) must be refused."""
    return expected is not None and expected != current
