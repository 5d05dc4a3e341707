"""The robot channel: a staff notice posted to its team's group-chat robot.

:class:`RobotSender` is notify's ``Sender[OutgoingRobotNotice]``. For each notice it picks
the team's robot (or the default ``"*"`` one), keeps the vendor's documented rate bound,
builds the vendor's request (WeCom markdown; DingTalk markdown with the signed URL; Feishu
card with the signed body), posts it (``robots.adapters.post``, one shared client) and says
what happened:

* taken → :class:`SendReceipt` with the contract's channel (``wecom``, ``dingtalk``,
  ``lark`` for Feishu);
* nothing went out, or the vendor asked us to slow down (a rate-limit code, HTTP 429 or 5xx,
  a refused connection, over the rate bound) → ``SendError(retryable=True)``;
* the request may have reached the vendor with no answer (a timeout after sending, a
  connection lost mid-request) → ``SendError(uncertain=True)``: never repeated, since a
  repeat could post the notice twice in the group;
* refused for good (a wrong key, token or signature, a disabled robot, no robot for the
  team) → ``SendError(retryable=False)``.

Errors name the team, vendor and the vendor's code and message, never the robot's URL (it
holds the key or token) or its secret.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import httpx
from complaint_contracts.events.notify import NotificationChannel

from notify.adapters.channels import SendError
from notify.adapters.outgoing import OutgoingRobotNotice, SendReceipt
from notify.config import NotifySettings
from notify.robots.adapters import post
from notify.robots.domain import dingtalk, feishu, wecom
from notify.robots.domain.directory import Robot, RobotDirectory, parse_robots
from notify.robots.domain.notice import RobotRequest, StaffNotice, Vendor
from notify.robots.domain.outcomes import RobotOutcome
from notify.robots.domain.ratebound import VENDOR_BOUNDS, RateBound, admits, longest_window

CHANNELS: dict[Vendor, NotificationChannel] = {
    "wecom": "wecom",
    "dingtalk": "dingtalk",
    "feishu": "lark",
}


class RobotSender:
    """Posts staff notices to the teams' robots (see the module docstring).

    ``clock`` is the wall clock in seconds since the epoch (DingTalk and Feishu compare the
    signed timestamp with theirs, within an hour); ``monotonic`` times the rate bounds.
    ``bounds`` overrides the vendors' documented rate bounds (an empty tuple: none).
    """

    def __init__(
        self,
        directory: RobotDirectory,
        *,
        timeout_s: float,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        bounds: dict[Vendor, tuple[RateBound, ...]] | None = None,
    ):
        self._directory = directory
        self._timeout_s = timeout_s
        # Redirects are not followed: a robot answers directly, and a redirect could carry
        # the notice (and a signed URL) elsewhere.
        self._client = client or httpx.AsyncClient(follow_redirects=False)
        self._clock = clock
        self._monotonic = monotonic
        self._bounds = dict(VENDOR_BOUNDS) if bounds is None else bounds
        # Post times per robot URL (two teams sharing a robot share its bound).
        self._sent: dict[str, deque[float]] = {}

    @property
    def directory(self) -> RobotDirectory:
        return self._directory

    def has_robot(self, team: str | None) -> bool:
        """Whether a notice for ``team`` has a robot (its own, or the default ``"*"``)."""
        return self._directory.has_robot(team)

    def channel_for(self, team: str | None) -> NotificationChannel | None:
        """The contract's channel of the robot a notice for ``team`` goes to (``wecom``,
        ``dingtalk``, ``lark``); None when there is none."""
        robot = self._directory.robot_for(team)
        return None if robot is None else CHANNELS[robot.vendor]

    async def send(self, message: OutgoingRobotNotice) -> SendReceipt:
        """Post ``message.notice`` to the robot of ``message.team``; see the module
        docstring for the receipt and the errors."""
        robot = self._directory.robot_for(message.team)
        if robot is None:
            raise SendError(
                f"no robot configured for team {message.team!r} and no default robot '*'",
                retryable=False,
            )
        self._take_slot(robot)
        request = self._request(robot, message.notice)
        outcome = await post(self._client, request, timeout_s=self._timeout_s)
        if outcome.kind == "ok":
            return SendReceipt(channel=CHANNELS[robot.vendor])
        raise _error(robot, outcome)

    async def aclose(self) -> None:
        await self._client.aclose()

    def _take_slot(self, robot: Robot) -> None:
        """Count this post against the robot's bound, or refuse it (retryable) when over.
        No await between the check and the count: concurrent sends cannot both pass."""
        bounds = self._bounds.get(robot.vendor, ())
        if not bounds:
            return
        now = self._monotonic()
        sent = self._sent.setdefault(robot.url, deque())
        keep = longest_window(bounds)
        while sent and now - sent[0] >= keep:
            sent.popleft()
        if not admits(sent, now=now, bounds=bounds):
            raise SendError(
                f"{robot.vendor} robot of {_who(robot)} is at its rate bound "
                f"({_describe(bounds)}); tried again later",
                retryable=True,
            )
        sent.append(now)

    def _request(self, robot: Robot, notice: StaffNotice) -> RobotRequest:
        # Built just before the post: the signed timestamp must be close to the vendor's clock.
        now = self._clock()
        if robot.vendor == "wecom":
            return wecom.build_request(robot.url, notice)
        if robot.vendor == "dingtalk":
            return dingtalk.build_request(
                robot.url, notice, secret=robot.secret, timestamp_ms=int(now * 1000)
            )
        return feishu.build_request(robot.url, notice, secret=robot.secret, timestamp_s=int(now))


def _error(robot: Robot, outcome: RobotOutcome) -> SendError:
    parts = [f"{robot.vendor} robot of {_who(robot)}: {outcome.reason}"]
    if outcome.vendor_code is not None:
        parts.append(f"code {outcome.vendor_code}")
    if outcome.http_status is not None:
        parts.append(f"HTTP {outcome.http_status}")
    if outcome.detail:
        parts.append(outcome.detail)
    text = ", ".join(parts)
    if outcome.maybe_delivered:
        return SendError(f"{text}; it may have been posted", retryable=False, uncertain=True)
    return SendError(text, retryable=outcome.kind == "retry")


def _who(robot: Robot) -> str:
    return "the default '*'" if robot.team == "*" else f"team {robot.team!r}"


def _describe(bounds: tuple[RateBound, ...]) -> str:
    return ", ".join(f"{b.limit} per {b.window_s:g} s" for b in bounds)


def load_robots(settings: NotifySettings) -> RobotDirectory:
    """``NOTIFY_ROBOTS``: inline JSON (starting with ``{``) or the path of a JSON file.
    A bad value raises ``InvalidRobots`` (stops the start-up); an unreadable file raises
    ``OSError`` naming the file."""
    value = settings.notify_robots.get_secret_value().strip()
    text = value if not value or value.startswith("{") else Path(value).read_text("utf-8")
    return parse_robots(text)


def make_robot_sender(settings: NotifySettings) -> RobotSender | None:
    """The robot channel, or ``None`` when ``NOTIFY_ROBOTS`` configures no robot."""
    directory = load_robots(settings)
    if directory.empty:
        return None
    return RobotSender(directory, timeout_s=settings.notify_robot_timeout_s)
