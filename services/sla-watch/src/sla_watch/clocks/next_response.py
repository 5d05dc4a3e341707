"""Next-response clocks (§6): each customer message waits for an agent's reply.

A ``CustomerMessageReceived`` (intake topic) starts a ``next_response`` clock for that
message; an agent's reply (``ComplaintAgentReplied``, or the first response) stops every
open next-response clock of the complaint started at or before the reply: one reply answers
all the messages before it.

The intake and routing topics are consumed independently, so a reply may be seen before
the message it answers. The latest reply instant is kept per complaint, and a message not
newer than it starts no clock (it was answered already).

A message starts no clock when sla-watch does not know the complaint (not triaged yet: the
first-response clock, armed at triage, covers every message until the first answer), and
none when the complaint has no open resolution clock (resolved or closed: a message that
reopens the complaint restarts the resolution clock through routing's reopen instead).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import structlog
from complaint_runtime.database import UnitOfWork

from sla_watch.clocks.service import start_clock, stop_clock, stop_clocks
from sla_watch.clocks.settings import ClockSettings
from sla_watch.db import Clock, ClockRepository, ComplaintSlaRepository

log = structlog.get_logger(__name__)


async def start_next_response(
    *,
    uow: UnitOfWork,
    settings: ClockSettings,
    complaint_id: str,
    message_id: str,
    at: datetime,
    now: datetime | None = None,
) -> Clock | None:
    """Start the clock answering one customer message; None when no clock is due (see the
    module docstring) or the message already has one."""
    now = now or datetime.now(UTC)
    clocks = ClockRepository(uow.session, lock=True)
    open_clocks = await clocks.open_of_complaint(complaint_id)  # lock order: clocks first
    row = await ComplaintSlaRepository(uow.session, lock=True).get(complaint_id)
    if row is None:
        log.info("customer message on a complaint not triaged yet: no next-response clock")
        return None
    if not any(c.metric == "resolution" for c in open_clocks):
        log.info("customer message on a resolved or closed complaint: no next-response clock")
        return None
    if row.last_agent_reply_at is not None and at <= row.last_agent_reply_at:
        log.info("customer message already answered by a reply seen earlier")
        return None
    if await clocks.has_message_clock(complaint_id, message_id):
        log.debug("message already has a next-response clock", message_id=message_id)
        return None
    return await start_clock(
        uow=uow,
        settings=settings,
        complaint_id=complaint_id,
        metric="next_response",
        facts=row.facts(),
        at=at,
        now=now,
        team=row.team,
        message_id=message_id,
    )


async def record_agent_reply(
    *,
    uow: UnitOfWork,
    settings: ClockSettings,
    complaint_id: str,
    at: datetime,
    reason: str,
    now: datetime | None = None,
) -> Sequence[Clock]:
    """An agent answered the customer at ``at``: the open next-response clocks started at
    or before then stop (met or breached), and the reply instant is remembered for messages
    still to be seen. Returns the clocks stopped."""
    now = now or datetime.now(UTC)
    open_clocks = await ClockRepository(uow.session, lock=True).open_of_complaint(
        complaint_id, metric="next_response"
    )
    row = await ComplaintSlaRepository(uow.session, lock=True).get(complaint_id)
    if row is not None and (row.last_agent_reply_at is None or at > row.last_agent_reply_at):
        row.last_agent_reply_at = at
        row.updated_at = now
    answered = [c for c in open_clocks if c.started_at <= at]
    for clock in answered:
        await stop_clock(
            uow=uow, settings=settings, clock=clock, at=at, now=now, reason=reason, cancel=False
        )
    return answered


async def record_first_response(
    *, uow: UnitOfWork, settings: ClockSettings, complaint_id: str, at: datetime, reason: str
) -> None:
    """The first response was sent at ``at``: the first-response clock stops (met or
    breached), and, being an agent's reply, it answers the customer's messages before it."""
    await stop_clocks(
        uow=uow,
        settings=settings,
        complaint_id=complaint_id,
        metric="first_response",
        at=at,
        reason=reason,
    )
    await record_agent_reply(
        uow=uow, settings=settings, complaint_id=complaint_id, at=at, reason=reason
    )
