"""Routing's use cases. Each runs in the consumer's transaction; events go to the outbox."""

from __future__ import annotations

from datetime import UTC, datetime

from complaint_contracts import topics
from complaint_contracts.events import ComplaintAssigned, ComplaintReceived, ComplaintTriaged
from complaint_contracts.events.routing import FiredRule
from complaint_runtime.database import UnitOfWork

from routing.db import Case, CaseRepository
from routing.domain.classification import Classifier, KeywordClassifier
from routing.domain.teams import team_for_category
from routing.domain.triage import triage

SOURCE = "routing"
DEFAULT_CLASSIFIER: Classifier = KeywordClassifier()


async def triage_and_assign(
    *, uow: UnitOfWork, received: ComplaintReceived, classifier: Classifier = DEFAULT_CLASSIFIER
) -> Case | None:
    """Classify, prioritise and route a new complaint to the team owning its category."""
    cases = CaseRepository(uow.session)
    if await cases.get(received.complaint_id) is not None:
        return None  # already triaged under another event id (e.g. a re-sent copy)
    decision = triage(
        subject=received.subject,
        description=received.description,
        language=received.customer.language,
        tier=received.customer.tier,
        classifier=classifier,
    )
    now = datetime.now(UTC)
    team = team_for_category(decision.category)
    rules = tuple(FiredRule(rule=r.rule, detail=r.detail) for r in decision.rules_fired)
    case = Case(
        complaint_id=received.complaint_id,
        reference=received.reference,
        status="assigned",
        channel=received.channel,
        customer_ref=received.customer.customer_ref,
        tier=received.customer.tier,
        language=received.customer.language,
        category=decision.category,
        subcategory=decision.subcategory,
        confidence=decision.confidence,
        priority=decision.priority,
        emotion=decision.emotion,
        rules_fired=[r.model_dump() for r in rules],
        team=team,
        assignee=None,
        owner=None,
        received_at=received.received_at,
        updated_at=now,
    )
    cases.add(case)
    subject = received.complaint_id
    uow.add_event(
        ComplaintTriaged(
            complaint_id=subject,
            category=decision.category,
            subcategory=decision.subcategory,
            confidence=decision.confidence,
            priority=decision.priority,
            emotion=decision.emotion,
            rules_fired=rules,
        ),
        topic=topics.ROUTING.name,
        source=SOURCE,
        subject=subject,
        time=now,
    )
    uow.add_event(
        ComplaintAssigned(
            complaint_id=subject,
            team=team,
            assignee=None,
            owner=None,
            actor=SOURCE,
            reason=f"team {team} owns category {decision.category}",
        ),
        topic=topics.ROUTING.name,
        source=SOURCE,
        subject=subject,
        time=now,
    )
    return case
