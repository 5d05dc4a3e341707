"""``routing-admin``: development helpers (a staff token for the curl walk-through)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from complaint_runtime.identity import ROLES, issue_token

from routing.config import RoutingSettings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="routing-admin")
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser(
        "issue-token", help="Print a staff JWT signed with AUTH_JWT_SECRET (development only)"
    )
    token.add_argument("--sub", required=True, help="User id, e.g. agent-li")
    token.add_argument("--roles", required=True, help=f"Comma-separated: {', '.join(ROLES)}")
    token.add_argument("--team", default=None, help="Team claim (leads: their team)")
    token.add_argument("--ttl-s", type=int, default=3600)
    args = parser.parse_args(argv)
    secret = RoutingSettings().auth_jwt_secret
    if not secret:
        print("AUTH_JWT_SECRET is not set", file=sys.stderr)
        return 2
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    try:
        print(
            issue_token(
                secret=secret, subject=args.sub, roles=roles, team=args.team, ttl_s=args.ttl_s
            )
        )
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
