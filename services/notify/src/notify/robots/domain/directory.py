"""Which robot a team's staff notices go to: ``NOTIFY_ROBOTS`` parsed into a directory.

The JSON (inline, or the content of a file; empty or ``{}``: no robots)::

    {"<team>": {"vendor": "wecom" | "dingtalk" | "feishu",
                "url": "<the robot's webhook URL, key or token included>",
                "secret": "<signing secret: dingtalk and feishu, optional>"},
     "*": {...}}

``"*"`` is the default robot of every team without its own (and of a notice whose complaint
has no team yet). ``"lark"`` is accepted for ``"feishu"`` (the same bot, Lark's name).

Guarantees of :func:`parse_robots` (checked once, at start-up, so a mistake stops notify
instead of losing notices later): every entry has a known vendor and an absolute ``https``
URL (plain ``http`` only to a loopback host: the development fakes and the tests), without
user info, fragment, whitespace or control characters, at most 2048 bytes; a WeCom URL
carries its ``key`` and a DingTalk URL its ``access_token`` query parameter; a secret, when
given, is not blank and has no surrounding whitespace (a pasted newline would make every
signature wrong); a WeCom entry has none (WeCom robots are not signed: the key in the URL is
the credential, and a secret there would be silently ignored).

Secrets: the robot URL holds its key or token and the secret signs, so neither is ever put
into an error message, ``repr`` or ``str``: errors name the team and the field only, and a
:class:`Robot` shows its team, vendor and host.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final
from urllib.parse import parse_qs, urlsplit

from notify.robots.domain.notice import Vendor

DEFAULT_TEAM: Final = "*"
MAX_ROBOTS: Final = 1000
MAX_URL_BYTES: Final = 2048
MAX_TEAM_CHARS: Final = 200

_VENDORS: Final[Mapping[str, Vendor]] = MappingProxyType(
    {"wecom": "wecom", "dingtalk": "dingtalk", "feishu": "feishu", "lark": "feishu"}
)
_FIELDS: Final = frozenset({"vendor", "url", "secret"})
# The query parameter that carries each vendor's credential in its webhook URL.
_URL_CREDENTIAL: Final[Mapping[Vendor, str]] = MappingProxyType(
    {"wecom": "key", "dingtalk": "access_token"}
)


class InvalidRobots(ValueError):
    """``NOTIFY_ROBOTS`` is not the documented shape; the message names the team and the
    field at fault, never a URL or a secret."""


@dataclass(frozen=True, slots=True)
class Robot:
    """One configured robot. ``url`` and ``secret`` are credentials: kept out of ``repr``."""

    team: str
    vendor: Vendor
    url: str = field(repr=False)
    secret: str | None = field(default=None, repr=False)

    @property
    def host(self) -> str:
        """The URL's host, safe to show (the key or token is in its query or path)."""
        return urlsplit(self.url).hostname or ""

    def __repr__(self) -> str:
        return f"Robot(team={self.team!r}, vendor={self.vendor!r}, host={self.host!r})"

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class RobotDirectory:
    """The robots by team (read-only), and the default ``"*"`` robot if configured."""

    by_team: Mapping[str, Robot] = field(default_factory=lambda: MappingProxyType({}))
    default: Robot | None = None

    def robot_for(self, team: str | None) -> Robot | None:
        """The team's own robot, else the default one, else ``None``."""
        own = self.by_team.get(team) if team else None
        return own or self.default

    def has_robot(self, team: str | None) -> bool:
        """Whether a notice for ``team`` has a robot to go to (its own or the default)."""
        return self.robot_for(team) is not None

    @property
    def empty(self) -> bool:
        """No robot at all: the robot channel is off."""
        return not self.by_team and self.default is None

    def __repr__(self) -> str:
        teams = sorted(self.by_team)
        return f"RobotDirectory(teams={teams!r}, default={self.default!r})"

    __str__ = __repr__


def parse_robots(text: str) -> RobotDirectory:
    """The directory described by the JSON ``text`` (see the module docstring); blank text
    is an empty directory. Raises :class:`InvalidRobots` for anything else."""
    if not text.strip():
        return RobotDirectory()
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        # Only the position: the exception's document is the configuration itself.
        raise InvalidRobots(
            f"NOTIFY_ROBOTS is not valid JSON (line {exc.lineno}, column {exc.colno})"
        ) from None
    if not isinstance(document, dict):
        raise InvalidRobots("NOTIFY_ROBOTS must be a JSON object of team -> robot")
    if len(document) > MAX_ROBOTS:
        raise InvalidRobots(f"NOTIFY_ROBOTS lists more than {MAX_ROBOTS} robots")
    robots = {team: _robot(team, entry) for team, entry in document.items()}
    default = robots.pop(DEFAULT_TEAM, None)
    return RobotDirectory(by_team=MappingProxyType(robots), default=default)


def is_loopback_host(host: str) -> bool:
    """``localhost`` (or a name under it, RFC 6761) or a loopback IP address."""
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _robot(team: str, entry: object) -> Robot:
    where = _where(team)
    if not team.strip() or len(team) > MAX_TEAM_CHARS:
        raise InvalidRobots(
            f"NOTIFY_ROBOTS: a team name must be 1 to {MAX_TEAM_CHARS} characters, not blank"
        )
    if not isinstance(entry, dict):
        raise InvalidRobots(f"{where} must be an object with vendor, url and secret")
    unknown = sorted(str(key)[:40] for key in entry if key not in _FIELDS)
    if unknown:
        raise InvalidRobots(f"{where} has unknown field(s) {unknown} (allowed: {sorted(_FIELDS)})")
    vendor_name = entry.get("vendor")
    vendor = _VENDORS.get(vendor_name) if isinstance(vendor_name, str) else None
    if vendor is None:
        raise InvalidRobots(f"{where}: vendor must be one of wecom, dingtalk, feishu (or lark)")
    url = _url(where, vendor, entry.get("url"))
    return Robot(team=team, vendor=vendor, url=url, secret=_secret(where, vendor, entry))


def _url(where: str, vendor: Vendor, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidRobots(f"{where}: url is missing (the robot's webhook URL)")
    if len(value.encode("utf-8")) > MAX_URL_BYTES:
        raise InvalidRobots(f"{where}: url is longer than {MAX_URL_BYTES} bytes")
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise InvalidRobots(f"{where}: url contains whitespace or control characters")
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - a port out of range raises here, at start-up
    except ValueError:
        raise InvalidRobots(f"{where}: url is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise InvalidRobots(f"{where}: url must be an absolute https URL")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise InvalidRobots(f"{where}: url must use https (plain http only to a loopback host)")
    if parts.username is not None or parts.password is not None or parts.fragment:
        raise InvalidRobots(f"{where}: url must not carry user info or a fragment")
    credential = _URL_CREDENTIAL.get(vendor)
    if credential is not None and not any(parse_qs(parts.query).get(credential, [])):
        raise InvalidRobots(f"{where}: a {vendor} url needs its {credential} query parameter")
    return value


def _secret(where: str, vendor: Vendor, entry: dict[str, object]) -> str | None:
    if "secret" not in entry or entry["secret"] is None:
        return None
    secret = entry["secret"]
    if vendor == "wecom":
        raise InvalidRobots(f"{where}: wecom robots are not signed; remove the secret")
    if not isinstance(secret, str) or not secret.strip():
        raise InvalidRobots(f"{where}: secret must be a non-blank string (or left out)")
    if secret != secret.strip():
        raise InvalidRobots(f"{where}: secret has leading or trailing whitespace")
    return secret


def _where(team: str) -> str:
    label = "default robot '*'" if team == DEFAULT_TEAM else f"team {team[:MAX_TEAM_CHARS]!r}"
    return f"NOTIFY_ROBOTS {label}"
