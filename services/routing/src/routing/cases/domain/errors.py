"""Why a case refuses a command: the refusals of the state machine, as domain errors.

The problem documents they become (status, ``type``, members) are the runtime's mapping
(``complaint_runtime.problems``): 409 ``illegal-transition`` with ``state`` and
``command``, 422 ``closure-guard`` with one error per missing field, 409 ``no-change``.
"""

from __future__ import annotations

from complaint_runtime.errors import Conflict, DomainError, InvalidInput, field_error

from routing.cases.domain.lifecycle import IllegalTransition


class IllegalTransitionError(Conflict):
    """The command is not allowed in the case's state."""

    default_title = "Illegal transition"
    default_kind = "illegal-transition"

    def __init__(self, detail: str, *, state: str, command: str) -> None:
        super().__init__(detail, state=state, command=command)


class ClosureGuardError(InvalidInput):
    """A resolve without solution summary, solution type or root cause (§2)."""

    default_title = "Closure guard"
    default_kind = "closure-guard"

    def __init__(self, missing: tuple[str, ...]) -> None:
        super().__init__(
            "A case cannot be resolved without solution summary, solution type and root cause.",
            errors=[
                field_error(name, f"{name} is required to resolve a case", code="missing")
                for name in missing
            ],
        )


class NoChangeError(Conflict):
    """The command would leave the case as it is (each use case names what in ``title``)."""

    default_title = "Nothing to change"
    default_kind = "no-change"


def refusal(outcome: IllegalTransition) -> DomainError:
    """The error a staff command gets for an illegal outcome of ``decide``."""
    if outcome.missing:
        return ClosureGuardError(outcome.missing)
    return IllegalTransitionError(outcome.reason, state=outcome.state, command=outcome.command)
