"""``routing-admin``: development helpers (a staff token for the curl walk-through).

``issue-token`` signs with a staff issuer's private key (``DEV_ISSUER_SIGNING_KEY``, e.g.
the development identity provider's of ``make up``), never with a service's own key: a
``service:<name>`` key may sign only that service's identity, and routing holds no staff
issuer's key of its own.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from complaint_runtime.identity import ROLES, STAFF_TOKEN_TTL_S, issue_token
from complaint_runtime.signing_keys import SigningKey, service_of_kid

ISSUER_KEY_ENV = "DEV_ISSUER_SIGNING_KEY"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="routing-admin")
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser(
        "issue-token",
        help=f"Print a staff JWT signed with the staff issuer key in {ISSUER_KEY_ENV} "
        "(development only)",
    )
    token.add_argument("--sub", required=True, help="User id, e.g. agent-li")
    token.add_argument("--roles", required=True, help=f"Comma-separated: {', '.join(ROLES)}")
    token.add_argument("--team", default=None, help="Team claim (leads: their team)")
    token.add_argument(
        "--audience",
        action="append",
        default=None,
        help="A service the token is for (repeatable; default: routing)",
    )
    token.add_argument("--ttl-s", type=int, default=STAFF_TOKEN_TTL_S)
    args = parser.parse_args(argv)
    key = _issuer_key()
    if key is None:
        return 2
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    audience: list[str] = args.audience or ["routing"]
    try:
        print(
            issue_token(
                key=key,
                subject=args.sub,
                roles=roles,
                audience=audience[0] if len(audience) == 1 else audience,
                team=args.team,
                ttl_s=args.ttl_s,
            )
        )
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return 0


def _issuer_key() -> SigningKey | None:
    """The staff issuer's key from the environment; None (the reason on stderr) otherwise."""
    text = os.environ.get(ISSUER_KEY_ENV, "")
    if not text.strip():
        print(f"{ISSUER_KEY_ENV} is not set (a staff issuer's private JWK)", file=sys.stderr)
        return None
    try:
        key = SigningKey.from_jwk(text, setting=ISSUER_KEY_ENV)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return None
    if service_of_kid(key.kid) is not None:
        print(
            f"{ISSUER_KEY_ENV} holds the key of a service ({key.kid}): a service's key signs "
            "only its own identity; give a staff issuer's key",
            file=sys.stderr,
        )
        return None
    return key


if __name__ == "__main__":
    raise SystemExit(main())
