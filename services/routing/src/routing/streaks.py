"""The irritation streak of §4 per case: started from the description at triage, advanced by
every customer message; when it fires on a blue case the case turns yellow.

The change is announced as ``complaint.recategorized`` with ``old_emotion``/``new_emotion``
and the ``emotion.streak`` rule, category and priority unchanged: every consumer of the
routing topic already handles that event, and a yellow never moves the priority (§4 raises
for red only), so sla-watch's clocks stay as they are.
"""

from __future__ import annotations

from typing import cast

from complaint_contracts.events import ComplaintRecategorized, CustomerMessageReceived
from complaint_contracts.events.routing import FiredRule
from complaint_contracts.vocabulary import Category, Priority
from complaint_runtime.database import UnitOfWork

from routing.customer_index_db import CustomerIndex
from routing.db import Case
from routing.domain.emotion_streak import DEFAULT_STREAK_LENGTH, observe
from routing.transitions import SOURCE, Actor, emit, now_utc, record

_length = DEFAULT_STREAK_LENGTH
# A copy waits for its original and a closed case is over: neither changes level.
_NO_CHANGE_IN = frozenset({"received", "closed"})


def configure(*, length: int) -> None:
    global _length
    _length = length


def start(*, uow: UnitOfWork, complaint_id: str, description: str) -> None:
    """The description is the first customer message."""
    update = observe({}, description, length=_length)
    CustomerIndex(uow.session).start_streak(complaint_id, update.runs)


async def observe_message(
    *, uow: UnitOfWork, case: Case, message: CustomerMessageReceived, event_id: str
) -> None:
    index = CustomerIndex(uow.session)
    streak = await index.streak(case.complaint_id)
    if streak is None:  # a case triaged before streaks were kept: start from this message
        streak = index.start_streak(case.complaint_id, {}, messages=0)
    update = observe(streak.runs, message.text, length=_length)
    streak.runs = update.runs
    streak.messages += 1
    streak.updated_at = now_utc()
    if update.fired is None or case.emotion != "blue" or case.status in _NO_CHANGE_IN:
        return
    rule = FiredRule(rule=update.fired.rule, detail=update.fired.detail)
    now = now_utc()
    category = cast(Category, case.category)  # the columns only hold vocabulary values
    priority = cast(Priority, case.priority)
    event = ComplaintRecategorized(
        complaint_id=case.complaint_id,
        old_category=category,
        new_category=category,
        old_subcategory=case.subcategory,
        new_subcategory=case.subcategory,
        old_priority=priority,
        new_priority=priority,
        reason=f"emotion streak: {rule.detail}",
        actor=SOURCE,
        old_emotion="blue",
        new_emotion="yellow",
        rules_fired=(rule,),
    )
    case.emotion = "yellow"
    case.rules_fired = [*case.rules_fired, rule.model_dump()]
    case.updated_at = now
    recategorized_id = emit(uow, case, event, at=now)
    record(
        uow,
        case,
        actor=Actor(SOURCE),
        action="emotion_changed",
        from_status=case.status,
        to_status=case.status,
        event_id=recategorized_id,
        detail={
            "old_emotion": "blue",
            "new_emotion": "yellow",
            "rule": rule.rule,
            "message_id": message.message_id,
            "caused_by": event_id,
        },
        at=now,
    )
