"""The customer's status in plain words and what happens next, by when.

Routing's states are the organisation's vocabulary (triaged, assigned, awaiting
confirmation...); the customer sees six (the UI guide): received 已受理, being handled
处理中, waiting for you 待您回复, resolved 已解决, closed 已关闭, withdrawn 已撤回. The
next step names the one deadline that matters now, from the SLA clocks
(:mod:`intake.projection.domain.promises`), or what the customer can do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final, Literal

from intake.projection.domain.promises import Promise, is_late

CustomerStatus = Literal[
    "received", "in_progress", "awaiting_customer", "resolved", "closed", "withdrawn"
]
_STATUS: Final[dict[str, CustomerStatus]] = {
    "received": "received",
    "triaged": "received",
    "assigned": "in_progress",
    "in_progress": "in_progress",
    "reopened": "in_progress",
    "awaiting_customer": "awaiting_customer",
    "resolved": "resolved",
    "awaiting_confirmation": "resolved",
    "closed": "closed",
}
SHOWN_METRICS: Final = ("first_response", "resolution")  # the two promises of the page


def customer_status(status: str, close_reason: str | None) -> CustomerStatus:
    """The customer's word for the projected status (a withdrawn closure is its own)."""
    if status == "closed" and close_reason == "withdrawn":
        return "withdrawn"
    return _STATUS.get(status, "in_progress")


@dataclass(frozen=True)
class NextStep:
    """``key``: the words (``next.<key>``); ``due_at``: the deadline they name;
    ``until``: the end of the reopen window; ``question``: the agent's open question."""

    key: str
    due_at: datetime | None = None
    until: datetime | None = None
    question: str | None = None


def next_step(
    *,
    status: CustomerStatus,
    promises: Mapping[str, Promise],
    closed_at: datetime | None,
    reopen_window: timedelta,
    now: datetime,
    question: str | None = None,
) -> NextStep:
    """What happens next (see the module docstring)."""
    if status == "withdrawn":
        return NextStep("withdrawn")
    if status == "closed":
        until = (closed_at or now) + reopen_window
        return NextStep("closed_reopen", until=until) if now <= until else NextStep("closed_new")
    if status == "resolved":
        return NextStep("resolved")
    if status == "awaiting_customer":
        return NextStep("awaiting_you", question=question)
    for metric, key in (
        ("first_response", "first_response"),
        ("next_response", "reply"),
        ("resolution", "resolution"),
    ):
        promise = promises.get(metric)
        if promise is not None and promise.state == "running" and promise.due_at is not None:
            late = is_late(promise, now=now)
            return NextStep(f"{key}_late" if late else key, due_at=promise.due_at)
    return NextStep("working")


def settle_first_response(
    promises: Mapping[str, Promise], *, answered_at: datetime | None
) -> dict[str, Promise]:
    """The first response as the customer saw it: routing's answer reaches the page on
    its own topic, sla-watch's stopped clock a moment later on another; once the answer
    is on the page, the promise is kept (late if it came after the deadline), not still
    "we will answer by"."""
    settled = dict(promises)
    first = settled.get("first_response")
    if answered_at is not None and first is not None and first.state in ("running", "paused"):
        late = first.breached or (first.due_at is not None and answered_at > first.due_at)
        settled["first_response"] = replace(
            first, state="breached" if late else "met", stopped_at=answered_at, breached=late
        )
    return settled


PromiseWord = Literal["pending", "running", "late", "paused", "met", "breached"]


@dataclass(frozen=True)
class PromiseRow:
    """One line of the promised times: ``promise.<metric>.<word>`` with ``moment``."""

    metric: str
    word: PromiseWord
    moment: datetime | None


def promise_rows(
    promises: Mapping[str, Promise], *, status: CustomerStatus, now: datetime
) -> list[PromiseRow]:
    """The first response and resolution promises as the page lists them; a clock not
    started yet is "being scheduled" while the complaint is open, and a cancelled one
    (a withdrawn or merged complaint) is not listed."""
    rows = []
    for metric in SHOWN_METRICS:
        promise = promises.get(metric)
        if promise is None:
            if status in ("received", "in_progress"):
                rows.append(PromiseRow(metric, "pending", None))
            continue
        if promise.state == "cancelled":
            continue
        if promise.state == "running":
            word: PromiseWord = "late" if is_late(promise, now=now) else "running"
            rows.append(PromiseRow(metric, word, promise.due_at))
        elif promise.state == "paused":
            rows.append(PromiseRow(metric, "paused", promise.due_at))
        else:
            met: PromiseWord = "breached" if promise.breached else "met"
            rows.append(PromiseRow(metric, met, promise.stopped_at))
    return rows
