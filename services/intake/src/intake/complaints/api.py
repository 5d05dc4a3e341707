"""Routes of submissions: front ends post complaints, customers (or front ends) write about
them or withdraw them, and notify fetches the raw contacts of one complaint (so does
routing, for a lead revealing a contact) or of a batch; only these services' own tokens
are admitted there. The work is in :mod:`intake.complaints.service`,
:mod:`intake.complaints.messages`, :mod:`intake.complaints.withdrawals` and
:mod:`intake.complaints.contacts`."""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from typing import Annotated, Any

from complaint_runtime.auth import Principal, require_callers
from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from intake.access.api import TOO_MANY, FrontEndDep, ViewerDep, customer_limit
from intake.access.domain.callers import FrontEnd, Viewer
from intake.access.domain.front_ends import READ_ALL
from intake.bootstrap import Dependencies, DependenciesDep
from intake.complaints import contacts, messages, service, withdrawals
from intake.complaints.domain.customers import customer_id_namespace
from intake.complaints.domain.submissions import (
    Attachment,
    CustomerDetails,
    NewComplaint,
    NewMessage,
)
from intake.complaints.schemas import (
    AttachmentIn,
    ComplaintAccepted,
    ComplaintIn,
    ContactCard,
    FollowUpOpened,
    ForwardedReplyAccepted,
    ForwardedReplyIn,
    MessageAccepted,
    MessageAnswer,
    MessageIn,
    WithdrawalAccepted,
    WithdrawalIn,
)

router = APIRouter(prefix="/v1/complaints", tags=["complaints"])
internal_router = APIRouter(prefix="/internal/v1", tags=["internal"])

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
ERRORS: dict[int | str, dict[str, Any]] = dict.fromkeys((400, 401, 403, 413, 422, 503), PROBLEM)
MESSAGE_ERRORS: dict[int | str, dict[str, Any]] = dict.fromkeys(
    (400, 401, 403, 404, 409, 413, 422, 503), PROBLEM
)


@router.post(
    "",
    status_code=201,
    response_model=ComplaintAccepted,
    responses=ERRORS,
    summary="Post a complaint",
    description=(
        "201: the complaint is stored (durably) with its `complaint.received` event. 503 with "
        "`Retry-After`: intake is overloaded (the oldest complaint it is accepting has waited "
        "longer than `INTAKE_SHED_AFTER_S`) and stored nothing; send it again later, with "
        "the same `Idempotency-Key` to be safe."
    ),
)
async def post_complaint(
    complaint: ComplaintIn,
    caller: FrontEndDep,
    deps: DependenciesDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=200,
            description=(
                "Same key and body: the same answer; same key, other body: 422. A key is "
                "honoured for 7 days (IDEMPOTENCY_KEY_RETENTION_H), then forgotten"
            ),
        ),
    ] = None,
) -> JSONResponse:
    caller.check_may_post(complaint.channel)
    with deps.admission.admit():
        result = await _submit(complaint, caller, idempotency_key, deps)
    headers = {"Location": f"/v1/complaints/{result.body['id']}"}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(result.body, status_code=201, headers=headers)


async def _submit(
    complaint: ComplaintIn, caller: FrontEnd, idempotency_key: str | None, deps: Dependencies
) -> service.SubmissionResult:
    return await service.submit_complaint(
        database=deps.database,
        secrets_=deps.secrets,
        references=deps.references,
        writer=deps.writer,
        submission=service.Submission(
            new_complaint(complaint),
            caller.api_key_id,
            idempotency_key,
            # Only a keyed request is compared with its first body: no hash otherwise.
            body_hash(complaint) if idempotency_key else "",
            front_end=caller.name,
            id_namespace=customer_id_namespace(
                caller.name, shared=deps.settings.shared_customer_id_front_ends
            ),
        ),
        public_base_url=deps.settings.public_base_url,
    )


@router.post(
    "/{complaint_id}/messages",
    status_code=201,
    response_model=MessageAnswer,
    responses={**MESSAGE_ERRORS, **TOO_MANY},
    dependencies=[Depends(customer_limit("message"))],
    summary="The customer writes about their complaint",
    description=(
        "The message joins the complaint (`outcome` `message_added`): it resumes a complaint "
        "awaiting the customer, and reopens one closed at most `REOPEN_WINDOW_DAYS` (30 by "
        "default) ago (`reopens`: true). On a complaint closed longer ago it opens a **new "
        "complaint** linked to the old one instead (`outcome` `new_complaint`, `Location` of "
        "the new complaint): its id, reference, tracking token and link, shown once; the old "
        "one stays closed. A withdrawn complaint refuses messages (409 "
        "`complaint-withdrawn`); an empty or over-long text is a 422. A front end's key "
        "reaches only what `GET /v1/complaints/{id}` shows it; any other complaint is a 404."
    ),
)
async def post_message(
    complaint_id: str, message: MessageIn, caller: ViewerDep, deps: DependenciesDep
) -> JSONResponse:
    outcome = await messages.add_customer_message(
        database=deps.database,
        secrets_=deps.secrets,
        references=deps.references,
        viewer=caller,
        complaint_id=complaint_id,
        message=NewMessage(
            text=message.text,
            channel=message.channel,
            attachments=_attachments(message.attachments),
        ),
        public_base_url=deps.settings.public_base_url,
        reopen_window=deps.reopen_window,
    )
    if isinstance(outcome, messages.AcceptedMessage):
        body = MessageAccepted.model_validate(asdict(outcome))
        return JSONResponse(body.model_dump(mode="json"), status_code=201)
    opened = FollowUpOpened.model_validate(
        {
            **outcome.accepted,
            "detail": (
                f"Complaint {outcome.related_reference} was closed longer ago than it can be "
                f"reopened, so your message opened a new complaint, "
                f"{outcome.accepted['reference']}, linked to it."
            ),
            "related_complaint_id": outcome.related_complaint_id,
            "related_reference": outcome.related_reference,
        }
    )
    return JSONResponse(
        opened.model_dump(mode="json"),
        status_code=201,
        headers={"Location": f"/v1/complaints/{opened.id}"},
    )


@router.post(
    "/{complaint_id}/withdraw",
    status_code=200,
    response_model=WithdrawalAccepted,
    responses={**MESSAGE_ERRORS, **TOO_MANY},
    dependencies=[Depends(customer_limit("withdraw"))],
    summary="The customer withdraws their complaint",
    description=(
        "The withdrawal is the customer's own confirmation (§3): it closes an open complaint, "
        "whatever its status, with close reason `withdrawn` and no resolution. The complaint "
        "shows closed at once and refuses further messages (409 `complaint-withdrawn`); its "
        "staff are told and the customer gets a confirmation. The `reason` is optional; phone "
        "numbers and e-mail addresses in it are masked. Withdrawing again is a 409 "
        "`complaint-withdrawn`, a complaint closed for another reason a 409 "
        "`complaint-closed`, an over-long reason a 422. A front end's key reaches only what "
        "`GET /v1/complaints/{id}` shows it; any other complaint is a 404."
    ),
)
async def withdraw(
    complaint_id: str, withdrawal: WithdrawalIn, caller: ViewerDep, deps: DependenciesDep
) -> WithdrawalAccepted:
    withdrawn = await withdrawals.withdraw_complaint(
        database=deps.database,
        viewer=caller,
        complaint_id=complaint_id,
        reason=withdrawal.reason,
    )
    return WithdrawalAccepted.model_validate(asdict(withdrawn))


@internal_router.get(
    "/complaints/{complaint_id}/contact",
    response_model=ContactCard,
    summary=(
        "The customer's contacts, tracking link and promised times, for a notification being sent"
    ),
)
async def get_contact(
    complaint_id: str,
    _caller: Annotated[Principal, Depends(require_callers("notify", "routing"))],
    deps: DependenciesDep,
) -> ContactCard:
    card = await service.contact_card(
        database=deps.database,
        secrets_=deps.secrets,
        complaint_id=complaint_id[:36],
        public_base_url=deps.settings.public_base_url,
        organisation_timezone=deps.settings.organisation_timezone,
    )
    return ContactCard.model_validate(asdict(card))


ComplaintId = Annotated[str, StringConstraints(min_length=1, max_length=36)]


class ContactLookupIn(BaseModel):
    """The complaints whose contacts a batch of notifications needs."""

    model_config = ConfigDict(extra="forbid")

    complaint_ids: list[ComplaintId] = Field(
        min_length=1,
        max_length=contacts.MAX_LOOKUP,
        description=f"1 to {contacts.MAX_LOOKUP} complaint ids; a repeated one is answered once",
    )


class ContactLookupAnswer(BaseModel):
    contacts: list[ContactCard] = Field(
        description="Per complaint found, what its `/contact` answers; in the order asked"
    )
    not_found: list[str] = Field(
        description="The complaints intake does not know (the single lookup's 404)"
    )


@internal_router.post(
    "/contacts/lookup",
    response_model=ContactLookupAnswer,
    responses=dict.fromkeys((401, 403, 422, 503), PROBLEM),
    summary="The contacts of several complaints at once, for a batch of notifications",
    description=(
        "The batch form of `GET /internal/v1/complaints/{complaint_id}/contact` (notify's "
        f"service token only): up to {contacts.MAX_LOOKUP} complaint ids, read in one query. Each "
        "complaint found is answered with the same fields, each unknown one listed in "
        f"`not_found`; more than {contacts.MAX_LOOKUP} ids (or none) is a 422. Nothing is "
        "stored."
    ),
)
async def lookup_contacts(
    lookup: ContactLookupIn,
    _caller: Annotated[Principal, Depends(require_callers("notify"))],
    deps: DependenciesDep,
) -> JSONResponse:
    found = await contacts.contact_cards(
        database=deps.database,
        secrets_=deps.secrets,
        complaint_ids=lookup.complaint_ids,
        public_base_url=deps.settings.public_base_url,
        organisation_timezone=deps.settings.organisation_timezone,
    )
    answer = ContactLookupAnswer(
        contacts=[ContactCard.model_validate(asdict(card)) for card in found.found],
        not_found=list(found.not_found),
    )
    return JSONResponse(answer.model_dump(mode="json"))  # validated once, here


# notify reaches every complaint (a reply address names one), on every channel.
NOTIFY_VIEWER = Viewer(
    front_end=FrontEnd(api_key_id=0, label="notify", channels=("*",), scopes=(READ_ALL,)),
    tracking_token=None,
)
# The complaint channel a reply is recorded on (the vocabulary has no "sms").
REPLY_CHANNELS: dict[str, Any] = {"email": "email", "sms": "other"}


@internal_router.post(
    "/complaints/{complaint_id}/messages",
    status_code=201,
    response_model=ForwardedReplyAccepted,
    responses=MESSAGE_ERRORS,
    summary="A customer's reply to a notification (e-mail or SMS), forwarded by notify",
    description=(
        "notify's service token only. The reply is the customer's message, with the rules of "
        "`POST /v1/complaints/{id}/messages`: it joins the complaint (resumes, or reopens one "
        "closed within the window, measured to `received_at`) or opens a follow-up; a "
        "withdrawn complaint is a 409 `complaint-withdrawn`, an erased one a 409 "
        "`complaint-anonymised`, an unknown one a 404. The same `external_id` again stores "
        "nothing and answers the first answer."
    ),
)
async def post_forwarded_reply(
    complaint_id: str,
    reply: ForwardedReplyIn,
    _caller: Annotated[Principal, Depends(require_callers("notify"))],
    deps: DependenciesDep,
) -> JSONResponse:
    outcome = await messages.add_customer_message(
        database=deps.database,
        secrets_=deps.secrets,
        references=deps.references,
        viewer=NOTIFY_VIEWER,
        complaint_id=complaint_id[:36],
        message=NewMessage(text=reply.text, channel=REPLY_CHANNELS[reply.channel]),
        public_base_url=deps.settings.public_base_url,
        reopen_window=deps.reopen_window,
        submission_key=f"reply-{reply.external_id}",
        received_at=reply.received_at,
    )
    if isinstance(outcome, messages.AcceptedMessage):
        answer = ForwardedReplyAccepted(
            outcome="message_added",
            complaint_id=outcome.complaint_id,
            message_id=outcome.message_id,
        )
    else:  # the tracking token of the follow-up is not notify's to see
        answer = ForwardedReplyAccepted(
            outcome="new_complaint", complaint_id=str(outcome.accepted["id"])
        )
    return JSONResponse(answer.model_dump(mode="json"), status_code=201)


def body_hash(complaint: ComplaintIn) -> str:
    """What an Idempotency-Key is bound to: the body as validated (defaults included)."""
    return hashlib.sha256(complaint.model_dump_json(exclude_none=False).encode()).hexdigest()


def new_complaint(complaint: ComplaintIn) -> NewComplaint:
    customer = complaint.customer
    return NewComplaint(
        channel=complaint.channel,
        customer=CustomerDetails(
            identity=customer.identity,
            name=customer.name,
            phone=customer.phone,
            email=customer.email,
            preferred_channel=customer.preferred_channel,
            language=customer.language,
            tier=customer.tier,
        ),
        subject=complaint.subject,
        description=complaint.description,
        order_ref=complaint.order_ref,
        occurred_at=complaint.occurred_at,
        attachments=_attachments(complaint.attachments),
        metadata=dict(complaint.metadata),
        timezone=complaint.timezone,
    )


def _attachments(attachments: list[AttachmentIn]) -> tuple[Attachment, ...]:
    return tuple(Attachment(url=a.url, media_type=a.media_type, size=a.size) for a in attachments)
