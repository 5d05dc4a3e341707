"""Triage of a received complaint (§4, §5), in the consumer's transaction: screen it for a
duplicate, classify and prioritise it, open its case and hand it to the assignment engine.
A copy staff unlink from its original goes through the same triage and assignment, from
the texts its case file keeps (:func:`triage_unlinked`, in the staff command's transaction).

The state change, its events (outbox) and its history entries commit together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from complaint_contracts.events import ComplaintAssigned, ComplaintReceived, ComplaintTriaged
from complaint_contracts.events.routing import FiredRule
from complaint_contracts.vocabulary import Channel, Tier
from complaint_runtime.database import UnitOfWork

from routing.assignment.domain.category_ownership import team_for_category
from routing.assignment.service import assign_new
from routing.casefile.recording import open_case_file
from routing.cases.domain.lifecycle import Assign, Triage
from routing.cases.transitions import (
    ROUTING,
    SOURCE,
    decide_or_raise,
    move,
    now_utc,
    received_case,
    record_received,
)
from routing.db import Case, CaseRepository
from routing.duplicates.domain.detection import DuplicatePolicy
from routing.duplicates.service import Screening, index, link_duplicate, screen
from routing.triage.classifiers import TriageClassifiers
from routing.triage.domain.classification import Classifier
from routing.triage.domain.triage import TriageDecision, triage
from routing.triage.emotion_streaks import ensure_streak, start_streak


@dataclass(frozen=True, slots=True)
class Complaint:
    """What triage reads of a complaint: its texts, its customer's language and tier."""

    subject: str
    description: str
    language: str
    tier: Tier

    @classmethod
    def received(cls, received: ComplaintReceived) -> Complaint:
        customer = received.customer
        return cls(received.subject, received.description, customer.language, customer.tier)


async def triage_and_assign(
    *,
    uow: UnitOfWork,
    received: ComplaintReceived,
    classifiers: TriageClassifiers,
    duplicate_policy: DuplicatePolicy,
    streak_length: int,
    event_id: str | None = None,
) -> Case | None:
    """Classify and prioritise a new complaint, keep its case file (texts, customer,
    search terms), then give it to the team owning its category and, when one is free, to
    that team's least-loaded agent (also its owner).

    A copy of an open complaint (§4 duplicates) is linked to it instead, never triaged or
    assigned. ``classifiers`` gives the configured classifier (the rules over the current
    category tree, or the model). None when the complaint already has a case."""
    if await CaseRepository(uow.session).get(received.complaint_id) is not None:
        return None  # already triaged under another event id (e.g. a re-sent copy)
    screening = await screen(uow=uow, received=received, policy=duplicate_policy)
    if screening.original is not None:
        copy = await link_duplicate(
            uow=uow, received=received, screening=screening, event_id=event_id
        )
        await open_case_file(uow=uow, case=copy, received=received)
        return copy
    classifier = await classifiers.for_session(uow.session)
    decision = _decide(Complaint.received(received), classifier, screening)
    now = now_utc()
    case = await _open_case(
        uow,
        received,
        decision,
        screening,
        streak_length=streak_length,
        event_id=event_id,
        at=now,
    )
    await open_case_file(uow=uow, case=case, received=received)
    await _assign(uow, case, at=now)
    return case


async def triage_unlinked(
    *,
    uow: UnitOfWork,
    case: Case,
    subject: str,
    description: str,
    screening: Screening,
    classifiers: TriageClassifiers,
    streak_length: int,
) -> int:
    """A copy staff unlinked from its original (§4): until now it stood under the original's
    triage, held ``received`` with no team. It is triaged and assigned exactly as its
    ``complaint.received`` would have been had it been no copy (``complaint.triaged`` arms
    its clocks in sla-watch), from the texts its case file keeps; ``screening`` is the
    customer's recent complaints. Returns its repeat count, for the customer index."""
    classifier = await classifiers.for_session(uow.session)
    complaint = Complaint(subject, description, case.language, cast(Tier, case.tier))
    decision = _decide(complaint, classifier, screening)
    now = now_utc()
    rules = _fired(decision)
    case.category, case.subcategory = decision.category, decision.subcategory
    case.confidence, case.priority = decision.confidence, decision.priority
    case.emotion, case.rules_fired = decision.emotion, [r.model_dump() for r in rules]
    case.team = team_for_category(decision.category)  # until _assign reads the ownership
    # Customer messages to the copy may have started its streak: they are kept.
    await ensure_streak(
        uow=uow, complaint_id=case.complaint_id, description=description, length=streak_length
    )
    repeat_count = screening.repeat_count(decision.category)
    _triaged(uow, case, decision, rules, repeat_count=repeat_count, at=now)
    await _assign(uow, case, at=now)
    return repeat_count


def _decide(complaint: Complaint, classifier: Classifier, screening: Screening) -> TriageDecision:
    """Category, emotion and priority; the repeat rule counts the customer's earlier
    complaints of the category the classifier chose."""
    return triage(
        subject=complaint.subject,
        description=complaint.description,
        language=complaint.language,
        tier=complaint.tier,
        classifier=classifier,
        count_repeats=screening.repeat_count,
    )


def _fired(decision: TriageDecision) -> tuple[FiredRule, ...]:
    return tuple(FiredRule(rule=r.rule, detail=r.detail) for r in decision.rules_fired)


async def _open_case(
    uow: UnitOfWork,
    received: ComplaintReceived,
    decision: TriageDecision,
    screening: Screening,
    *,
    streak_length: int,
    event_id: str | None,
    at: datetime,
) -> Case:
    """The new case row, its customer-index entry and its irritation streak, moved to
    ``triaged`` with ``complaint.triaged``."""
    repeat_count = screening.repeat_count(decision.category)
    team = team_for_category(decision.category)  # until assign_new reads the ownership table
    rules = _fired(decision)
    case = received_case(
        received,
        category=decision.category,
        subcategory=decision.subcategory,
        confidence=decision.confidence,
        priority=decision.priority,
        emotion=decision.emotion,
        rules_fired=[r.model_dump() for r in rules],
        team=team,
        at=at,
    )
    CaseRepository(uow.session).add(case)
    index(uow, screening, repeat_count=repeat_count)
    start_streak(
        uow=uow,
        complaint_id=case.complaint_id,
        description=received.description,
        length=streak_length,
    )
    # No flush here: the case's rows go in the next one, after the case (their mappings
    # name it), and the case is inserted already triaged rather than updated.
    record_received(uow, case, received, event_id=event_id)
    _triaged(uow, case, decision, rules, repeat_count=repeat_count, at=at)
    return case


def _triaged(
    uow: UnitOfWork,
    case: Case,
    decision: TriageDecision,
    rules: tuple[FiredRule, ...],
    *,
    repeat_count: int,
    at: datetime,
) -> None:
    """``received`` → ``triaged`` with ``complaint.triaged`` (the row holds the decision)."""
    triaged = ComplaintTriaged(
        complaint_id=case.complaint_id,
        category=decision.category,
        subcategory=decision.subcategory,
        confidence=decision.confidence,
        priority=decision.priority,
        emotion=decision.emotion,
        rules_fired=rules,
        repeat_count=repeat_count,
        channel=cast(Channel, case.channel),  # the columns only hold vocabulary values
        customer_tier=cast(Tier, case.tier),
    )
    move(
        uow,
        case,
        decide_or_raise(case, Triage()),
        actor=ROUTING,
        action="triaged",
        event=triaged,
        at=at,
        detail={"category": decision.category, "priority": decision.priority},
    )


async def _assign(uow: UnitOfWork, case: Case, *, at: datetime) -> None:
    """The engine (routing.assignment): owning team, best free agent or the team queue;
    ``triaged`` → ``assigned`` with ``complaint.assigned``."""
    reason = await assign_new(uow=uow, case=case, at=at)
    team, agent = case.team or team_for_category(case.category), case.assignee
    assigned = ComplaintAssigned(
        complaint_id=case.complaint_id,
        team=team,
        assignee=agent,
        owner=agent,
        actor=SOURCE,
        reason=reason,
    )
    move(
        uow,
        case,
        decide_or_raise(case, Assign()),
        actor=ROUTING,
        action="assigned",
        event=assigned,
        at=at,
        detail={"team": team, "assignee": agent},
    )
