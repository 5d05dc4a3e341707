"""Routes of the data subjects' rights (§10) besides erasure: a customer's data exported
(``POST /v1/exports``) and a complaint's contact details corrected (``PATCH
/v1/complaints/{id}/contacts``). Callers: an administrator's bearer token (role ``admin``,
any front end's customers) or a front end's ``X-API-Key`` (its own front end's; an export
needs the key's ``export`` scope). The work is in :mod:`intake.rights.service`."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any, Final

from complaint_runtime.auth import current_principal, require_roles
from complaint_runtime.errors import Unauthorized
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse

from intake.access.api import API_KEY_CHALLENGE, optional_front_end
from intake.access.api import front_end as front_end_dependency
from intake.bootstrap import DependenciesDep
from intake.rights import service
from intake.rights.domain.subjects import EXPORT_SCOPE, RightsCaller, subject_query
from intake.rights.schemas import (
    ContactsCorrectedOut,
    ContactsPatchIn,
    CustomerExportOut,
    ExportIn,
)

router = APIRouter(prefix="/v1", tags=["data subjects"])

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
ERRORS: dict[int | str, dict[str, Any]] = dict.fromkeys((401, 403, 404, 409, 422, 503), PROBLEM)
# Raw contacts: no cache anywhere may keep the answer.
NO_STORE: Final = {"Cache-Control": "no-store"}


async def front_end_or_admin(
    request: Request,
    deps: DependenciesDep,
    x_api_key: Annotated[str | None, Header(max_length=200)] = None,
    authorization: Annotated[str | None, Header(max_length=4096)] = None,
) -> RightsCaller:
    """A front end by its key, else an administrator by their bearer token."""
    if x_api_key is not None:
        # The same checks (and 401s) as every front end's route.
        front_end = await front_end_dependency(await optional_front_end(deps, x_api_key))
        return RightsCaller.of_front_end(front_end.name, frozenset(front_end.scopes))
    if authorization is None:
        raise Unauthorized(
            "Send an administrator's 'Authorization: Bearer <token>' or a front end's X-API-Key.",
            challenge=f"Bearer, {API_KEY_CHALLENGE}",
        )
    principal = await require_roles("admin")(await current_principal(request, authorization))
    return RightsCaller.admin(principal.subject)


RightsCallerDep = Annotated[RightsCaller, Depends(front_end_or_admin)]


@router.post(
    "/exports",
    response_model=CustomerExportOut,
    responses=ERRORS,
    summary="Export a customer's data (the right of access)",
    description=(
        "Everything intake holds about the customer named by exactly one of `external_ref`, "
        "`phone` or `email`: each complaint with its contacts (decrypted), texts, "
        "attachments' metadata, the customer's messages and the timeline the customer sees; "
        f"no keyed hash, staff-only step or other customer. At most "
        f"{service.EXPORT_PAGE_SIZE} complaints per answer, oldest first: `next_after` "
        "names the next page. `?download=true` answers it as a file (Content-Disposition). "
        "Administrators (role `admin`) export any front end's customers (naming the "
        "`front_end` of an `external_ref`); a front end's key needs the `export` scope "
        "(else 403) and exports its own front end's customers only. No complaint of the "
        "customer is a 404. Answers are `Cache-Control: no-store`."
    ),
)
async def export_customer(
    body: ExportIn,
    caller: RightsCallerDep,
    deps: DependenciesDep,
    download: Annotated[bool, Query(description="Answer as a file to save")] = False,
) -> JSONResponse:
    query = subject_query(
        deps.secrets.ref_key,
        caller,
        external_ref=body.external_ref,
        phone=body.phone,
        email=body.email,
        front_end=body.front_end,
        scope=EXPORT_SCOPE,
    )
    exported = await service.export_customer_data(
        database=deps.database,
        secrets_=deps.secrets,
        query=query,
        after=body.after,
        actor=caller.actor,
    )
    answer = CustomerExportOut.model_validate(asdict(exported))
    headers = dict(NO_STORE)
    if download:
        day = datetime.now(UTC).strftime("%Y%m%d")
        headers["Content-Disposition"] = f'attachment; filename="customer-data-{day}.json"'
    return JSONResponse(answer.model_dump(mode="json"), headers=headers)


@router.patch(
    "/complaints/{complaint_id}/contacts",
    response_model=ContactsCorrectedOut,
    responses=ERRORS,
    summary="Correct a complaint's contact details",
    description=(
        "A JSON merge patch (RFC 7396; `application/json` or `application/merge-patch+json`) "
        "of `name`, `phone`, `email`, `preferred_channel`: a member replaces the field, "
        "`null` removes it, an absent member keeps it; values are validated like the "
        "complaint's POST (422). The contacts are re-encrypted, their keyed hashes and masked "
        "forms recomputed, and notifications from now on use them; the customer reference "
        "stays. The complaint's history records the fields changed and who changed them, "
        "never the values. Administrators correct any complaint, a front end's key the "
        "complaints its front end posted (another's is a 404). An erased complaint is a "
        "409 `complaint-anonymised`."
    ),
)
async def correct_contacts(
    complaint_id: str, body: ContactsPatchIn, caller: RightsCallerDep, deps: DependenciesDep
) -> JSONResponse:
    corrected = await service.correct_contacts(
        database=deps.database,
        secrets_=deps.secrets,
        caller=caller,
        complaint_id=complaint_id,
        patch=body.patch(),
    )
    answer = ContactsCorrectedOut.model_validate(asdict(corrected))
    return JSONResponse(answer.model_dump(mode="json"), headers=dict(NO_STORE))
