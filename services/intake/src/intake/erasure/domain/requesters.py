"""Who may ask for an erasure and read its status, and which complaints a request covers.

- an admin (signed token) names any customer: by phone or e-mail across every front end,
  by an external customer id together with the front end that gave it;
- a front end's API key with the ``erasure`` scope names only its own customers: its
  external ids, or a phone or e-mail on the complaints it created; naming another front
  end is refused;
- the status is read by admins and auditors, and by the key's front end that asked.

An unknown customer is not an error: the erasure is recorded (who asked, when) with no
complaint, and is complete at once, so the answer says nothing a key could not know.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from complaint_runtime.errors import Forbidden, field_error

from intake.erasure.domain.errors import InvalidErasureSubject, ScopeMissing
from intake.erasure.domain.subjects import ALL_FRONT_ENDS

ERASURE_SCOPE: Final = "erasure"
READER_ROLES: Final = frozenset({"admin", "auditor"})


@dataclass(frozen=True)
class Requester:
    """The caller of an erasure route: staff (``roles`` from the token) or one front end
    (``front_end``, its key's scopes checked when it was built)."""

    actor: str
    front_end: str | None = None
    roles: frozenset[str] = frozenset()

    @classmethod
    def of_front_end(cls, name: str, *, has_erasure_scope: bool) -> Requester:
        if not has_erasure_scope:
            raise ScopeMissing(f"This API key lacks the `{ERASURE_SCOPE}` scope.")
        return cls(actor=f"front-end:{name}", front_end=name)

    @classmethod
    def of_staff(cls, subject: str, roles: frozenset[str]) -> Requester:
        return cls(actor=subject, roles=roles)

    def check_may_request(self) -> None:
        if self.front_end is None and "admin" not in self.roles:
            raise Forbidden("This needs the role admin, or a front end's key with the scope.")

    def may_read(self, *, requested_by_front_end: str | None) -> bool:
        """Whether the caller may read an erasure (a refusal is a 404 to the caller)."""
        if self.front_end is not None:
            return requested_by_front_end == self.front_end
        return bool(self.roles & READER_ROLES)

    def contact_scope(self) -> str:
        """Whose complaints a phone or e-mail request covers."""
        return self.front_end if self.front_end is not None else ALL_FRONT_ENDS

    def external_ref_scope(self, named: str | None) -> str:
        """The front end an external customer id belongs to: a key's own (naming another
        is refused), or the one an admin names (required)."""
        if self.front_end is not None:
            if named is not None and named != self.front_end:
                raise Forbidden("A front end's key erases only its own customers.")
            return self.front_end
        if not named:
            raise InvalidErasureSubject(
                "Name the front end that gave the customer id (`?front_end=`).",
                errors=[field_error("front_end", "required for an admin", location="query")],
            )
        return named
