"""Whose data a rights request names, and who may ask for it.

A customer is named the three ways a front end gives one (and the erasure takes): the
front end's own customer id (``external_ref``), a phone number or an e-mail address. The
complaints found are matched on exact columns: the external id within one front end (the
same id at two front ends is two customers), the phone and e-mail through their keyed
hashes (normalised like at submission, so ``+86 138-1234-5678`` finds ``13812345678``, and a
number one digit off finds nothing).

Callers: an administrator (role ``admin``) asks about any front end's customers, naming the
front end an external id belongs to; a front end's key asks about its own front end's
customers only, and only with the scope the request needs (``export``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from complaint_runtime.errors import InvalidInput, field_error

from intake.access.domain.front_ends import EXPORT
from intake.complaints.domain.customers import keyed_hash, normalize_email, normalize_phone
from intake.rights.domain.errors import OtherFrontEnd, ScopeMissing

SubjectKind = Literal["external_ref", "phone", "email"]
EXPORT_SCOPE: Final = EXPORT  # intake-admin create-api-key --scope export


@dataclass(frozen=True)
class RightsCaller:
    """An administrator (``front_end`` None: every front end's customers) or a front end's
    key (its own front end's customers, with its scopes). ``actor`` is how a change it makes
    is recorded."""

    actor: str
    front_end: str | None
    scopes: frozenset[str] = frozenset()

    @classmethod
    def admin(cls, subject: str) -> RightsCaller:
        return cls(actor=f"admin:{subject}", front_end=None)

    @classmethod
    def of_front_end(cls, name: str, scopes: frozenset[str]) -> RightsCaller:
        return cls(actor=f"front-end:{name}", front_end=name, scopes=scopes)

    @property
    def is_admin(self) -> bool:
        return self.front_end is None

    def may_act_on(self, complaint_front_end: str | None) -> bool:
        """Whether a complaint of ``complaint_front_end`` is the caller's to act on (one
        whose front end is not recorded is an administrator's only)."""
        return self.is_admin or (
            complaint_front_end is not None and complaint_front_end == self.front_end
        )


@dataclass(frozen=True)
class SubjectQuery:
    """How the customer's complaints are found: ``kind``'s column equals ``value`` (the
    external id itself, or the keyed hash of the phone or e-mail), among the complaints of
    ``front_end`` (None: of every front end)."""

    kind: SubjectKind
    value: str
    front_end: str | None


def subject_query(
    ref_key: bytes,
    caller: RightsCaller,
    *,
    external_ref: str | None,
    phone: str | None,
    email: str | None,
    front_end: str | None,
    scope: str,
) -> SubjectQuery:
    """The query of the customer named by exactly one of ``external_ref``, ``phone``,
    ``email`` (the request's schema makes sure), as ``caller`` may run it.

    Refusals: :class:`ScopeMissing` (a key without ``scope``), :class:`OtherFrontEnd` (a
    key naming another front end), ``InvalidInput`` (an administrator naming an external
    id without its front end: ids are only unique within one)."""
    scoped_to = _front_end_for(caller, front_end, scope=scope)
    if external_ref is not None:
        if scoped_to is None:
            raise InvalidInput(
                "An external customer id belongs to one front end: name it in front_end.",
                errors=[field_error("front_end", "required with external_ref")],
            )
        return SubjectQuery("external_ref", external_ref.strip(), scoped_to)
    if phone is not None:
        return SubjectQuery(
            "phone", keyed_hash(ref_key, "phone", normalize_phone(phone)), scoped_to
        )
    if email is not None:
        return SubjectQuery(
            "email", keyed_hash(ref_key, "email", normalize_email(email)), scoped_to
        )
    raise ValueError("name the customer by external_ref, phone or email")  # the schema does


def _front_end_for(caller: RightsCaller, named: str | None, *, scope: str) -> str | None:
    if caller.is_admin:
        return named
    if scope not in caller.scopes:
        raise ScopeMissing(f"This key lacks the {scope!r} scope.", scope=scope)
    if named is not None and named != caller.front_end:
        raise OtherFrontEnd("A front end's key acts for its own front end's customers only.")
    return caller.front_end
