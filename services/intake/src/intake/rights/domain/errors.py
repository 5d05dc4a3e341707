"""Why a rights request is refused (problem documents through the runtime)."""

from __future__ import annotations

from complaint_runtime.errors import Forbidden, InvalidInput, NotFound


class ScopeMissing(Forbidden):
    """The front end's key lacks the scope the request needs."""

    default_title = "Scope missing"
    default_kind = "scope-missing"


class OtherFrontEnd(Forbidden):
    """A front end's key acts for its own front end's customers only."""

    default_title = "Not this front end's customers"
    default_kind = "other-front-end"


class CustomerNotFound(NotFound):
    """No complaint of the customer named (or none the caller may see): the same answer."""

    default_title = "Customer not found"
    default_kind = "customer-not-found"


class NothingToCorrect(InvalidInput):
    default_title = "Nothing to correct"
    default_kind = "nothing-to-correct"
