"""The irritation streak of §4 per case: started from the description at triage, advanced by
every customer message; when it fires on a blue case the case turns yellow. The streak
length (``EMOTION_STREAK_LENGTH``) comes from the caller (the dependencies).

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

from routing.cases.transitions import SOURCE, Actor, changed, emit, now_utc, record
from routing.db import Case
from routing.triage.db import EmotionStreakRepository
from routing.triage.domain.emotion_streak import observe

# A copy waits for its original and a closed case is over: neither changes level.
_NO_CHANGE_IN = frozenset({"received", "closed"})


def start_streak(*, uow: UnitOfWork, complaint_id: str, description: str, length: int) -> None:
    """The description is the first customer message."""
    update = observe({}, description, length=length)
    EmotionStreakRepository(uow.session).start(complaint_id, update.runs)


async def ensure_streak(
    *, uow: UnitOfWork, complaint_id: str, description: str, length: int
) -> None:
    """Start the streak from the description unless customer messages already started one
    (a copy triaged late, once staff unlinked it from its original)."""
    if await EmotionStreakRepository(uow.session).get_for_update(complaint_id) is None:
        start_streak(uow=uow, complaint_id=complaint_id, description=description, length=length)


async def observe_message(
    *,
    uow: UnitOfWork,
    case: Case,
    message: CustomerMessageReceived,
    event_id: str,
    length: int,
) -> None:
    """Advance the case's streak by one customer message; when a word's run reaches
    ``length`` on a blue case in progress, the case turns yellow."""
    streaks = EmotionStreakRepository(uow.session)
    streak = await streaks.get_for_update(case.complaint_id)
    if streak is None:  # a case triaged before streaks were kept: start from this message
        streak = streaks.start(case.complaint_id, {}, messages=0)
    update = observe(streak.runs, message.text, length=length)
    streak.runs = update.runs
    streak.messages += 1
    streak.updated_at = now_utc()
    if update.fired is None or case.emotion != "blue" or case.status in _NO_CHANGE_IN:
        return
    _turn_yellow(
        uow,
        case,
        FiredRule(rule=update.fired.rule, detail=update.fired.detail),
        message=message,
        event_id=event_id,
    )


def _turn_yellow(
    uow: UnitOfWork,
    case: Case,
    rule: FiredRule,
    *,
    message: CustomerMessageReceived,
    event_id: str,
) -> None:
    """The case's emotion blue → yellow, announced as ``complaint.recategorized``."""
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
    changed(case, at=now)
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


async def forget(*, uow: UnitOfWork, complaint_id: str) -> None:
    """Erasure (§10): the case's streak goes with the customer's other data."""
    await EmotionStreakRepository(uow.session).forget(complaint_id)
