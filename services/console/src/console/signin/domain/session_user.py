"""Who is signed in, as the session cookie keeps it, and how they were signed in.

The cookie is signed (itsdangerous, ``CONSOLE_SESSION_SECRET``) but readable by its
holder: it keeps the user's id, roles and team and when they signed in; no token (the
development sign-in's pasted token is checked and dropped: the console signs its users'
calls itself). A session ends ``CONSOLE_SESSION_MAX_AGE_S`` after sign-in, or when the
pasted token expires, whichever comes first.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

SignInMethod = Literal["token", "oidc"]
# Roles a person may hold in the console; ``service`` is never a person's.
STAFF_ROLES: Final = frozenset({"agent", "lead", "manager", "admin"})
SEE_ALL_ROLES: Final = frozenset({"manager", "admin"})
MAX_SUBJECT: Final = 100
MAX_TEAM: Final = 60


@dataclass(frozen=True, slots=True)
class SessionUser:
    subject: str
    roles: frozenset[str]
    team: str | None
    method: SignInMethod
    signed_in_at: float  # epoch seconds
    expires_at: float  # epoch seconds: sign-in + max age, or the token's expiry if sooner

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_lead(self) -> bool:
        return self.has_any("lead", "manager")

    @property
    def sees_all_teams(self) -> bool:
        return self.has_any(*SEE_ALL_ROLES)

    def expired(self, now: float) -> bool:
        return now >= self.expires_at

    def to_session(self) -> dict[str, Any]:
        return {
            "sub": self.subject,
            "roles": sorted(self.roles),
            "team": self.team,
            "method": self.method,
            "at": self.signed_in_at,
            "exp": self.expires_at,
        }

    @staticmethod
    def from_session(value: object) -> SessionUser | None:
        """The user a session holds; None for anything malformed (treated as signed out)."""
        if not isinstance(value, Mapping):
            return None
        try:
            return _parse(value)
        except (KeyError, TypeError, ValueError):
            return None


def _parse(value: Mapping[str, Any]) -> SessionUser:
    subject, roles, team = value["sub"], value["roles"], value.get("team")
    method = value["method"]
    if not isinstance(subject, str) or not subject or not isinstance(roles, list):
        raise ValueError("malformed user")
    if method not in ("token", "oidc") or (team is not None and not isinstance(team, str)):
        raise ValueError("malformed user")
    return SessionUser(
        subject=subject,
        roles=frozenset(str(r) for r in roles),
        team=team,
        method=method,
        signed_in_at=float(value["at"]),
        expires_at=float(value["exp"]),
    )


def staff_roles(roles: Collection[str]) -> frozenset[str]:
    """The roles a person may use here (unknown ones and ``service`` dropped)."""
    return frozenset(roles) & STAFF_ROLES


class ClaimsRefused(ValueError):
    """The identity provider's claims do not make a console user (the reason says why)."""


@dataclass(frozen=True, slots=True)
class ClaimNames:
    subject: str = "sub"
    roles: str = "roles"
    team: str = "team"


def _roles_claim(value: object) -> list[str]:
    if isinstance(value, str):
        return value.replace(",", " ").split()
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    return []


def identity_of_claims(
    claims: Mapping[str, Any], names: ClaimNames
) -> tuple[str, frozenset[str], str | None]:
    """(user id, roles, team) from an ID token's or userinfo's claims.

    The user id must be an id (routing records it as the actor): not an e-mail address,
    at most 100 characters. A user with none of the console's roles is refused.
    """
    subject = claims.get(names.subject)
    if not isinstance(subject, str) or not subject.strip():
        raise ClaimsRefused(f"the identity has no '{names.subject}' claim")
    subject = subject.strip()
    if len(subject) > MAX_SUBJECT or "@" in subject or any(c.isspace() for c in subject):
        raise ClaimsRefused("the user id must be an id, not an e-mail address or a name")
    roles = staff_roles(_roles_claim(claims.get(names.roles)))
    if not roles:
        raise ClaimsRefused("the identity holds none of the roles agent, lead, manager, admin")
    team = claims.get(names.team)
    if not isinstance(team, str) or not team.strip() or len(team) > MAX_TEAM:
        team = None
    return subject, roles, team.strip() if team else None
