"""Why a survey link cannot be used (now), and the error each reason is.

Forged, tampered and unknown links get the same answer as a request that does not exist:
nothing to probe.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Protocol

from complaint_runtime.errors import Conflict, DomainError, Gone, NotFound

from feedback.domain.links import LinkClaims

RefusalReason = Literal["not_found", "answered", "expired", "closed"]


class ConfirmationRequestNotFound(NotFound):
    """Unknown, or not sent yet (waiting for its complaint's details)."""

    default_title = "Confirmation request not found"


class SurveyNotFound(NotFound):
    default_title = "Survey not found"
    default_kind = "survey-not-found"

    def __init__(self, detail: str = "No survey behind this link.", **kw: Any):
        super().__init__(detail, **kw)


class SurveyAnswered(Conflict):
    default_title = "Survey already answered"
    default_kind = "survey-answered"

    def __init__(
        self, detail: str = "This link has been used; each link takes one answer.", **kw: Any
    ):
        super().__init__(detail, **kw)


class SurveyExpired(Gone):
    default_title = "Survey expired"
    default_kind = "survey-expired"

    def __init__(self, detail: str = "This link has expired.", **kw: Any):
        super().__init__(detail, **kw)


class SurveyClosed(Gone):
    default_title = "Survey no longer open"
    default_kind = "survey-closed"

    def __init__(
        self,
        detail: str = "A newer survey replaced this one, or the complaint was closed.",
        **kw: Any,
    ):
        super().__init__(detail, **kw)


class RequestState(Protocol):
    """What a refusal looks at of a confirmation request (a row of the requests table)."""

    @property
    def complaint_id(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def answered_at(self) -> datetime | None: ...

    @property
    def expires_at(self) -> datetime | None: ...


def refusal_reason(
    request: RequestState | None, *, claims: LinkClaims, now: datetime
) -> RefusalReason | None:
    """Why the link cannot be used now: not_found, answered, expired or closed; None if it
    can. A waiting request (not sent yet) has no link out there: not found."""
    if (
        request is None
        or request.complaint_id != claims.complaint_id
        or request.status == "waiting"
    ):
        return "not_found"
    if request.status == "answered" or request.answered_at is not None:
        return "answered"
    if request.status == "expired" or (
        request.expires_at is not None and request.expires_at <= now
    ):
        return "expired"
    if request.status in ("superseded", "cancelled"):
        return "closed"
    return None


def refusal(reason: RefusalReason) -> DomainError:
    """The error (and so the answer: 404, 409 or 410) a reason is."""
    errors: dict[RefusalReason, type[DomainError]] = {
        "not_found": SurveyNotFound,
        "answered": SurveyAnswered,
        "expired": SurveyExpired,
        "closed": SurveyClosed,
    }
    return errors[reason]()
