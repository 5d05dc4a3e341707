"""Who calls routing's API: staff (agent, lead, manager) and services, with signed JWTs.

The role dependencies every router of routing uses (api layer only)."""

from __future__ import annotations

from typing import Annotated

from complaint_contracts.privacy import find_contacts
from complaint_runtime.auth import Principal, require_roles
from complaint_runtime.errors import Forbidden
from fastapi import Depends

from routing.cases.domain.access import STAFF_ROLES

MAX_SUBJECT = 100  # the assignee / owner columns; ids longer than that are not user ids


def _checked(principal: Principal) -> Principal:
    # The subject goes into events and logs as the actor: it must be an id, never a raw
    # contact (some identity providers use the e-mail address as ``sub``).
    if len(principal.subject) > MAX_SUBJECT or find_contacts(principal.subject):
        raise Forbidden(
            f"The token's subject must be a user id of at most {MAX_SUBJECT} characters, "
            "not a phone number or e-mail address."
        )
    return principal


_staff = require_roles(*STAFF_ROLES)
_leads = require_roles("lead", "manager")
# Case reads: what each reader sees is routing.casefile.domain.visibility.
_readers = require_roles(*STAFF_ROLES, "admin", "service")


async def staff(principal: Annotated[Principal, Depends(_staff)]) -> Principal:
    return _checked(principal)


async def leads(principal: Annotated[Principal, Depends(_leads)]) -> Principal:
    return _checked(principal)


async def readers(principal: Annotated[Principal, Depends(_readers)]) -> Principal:
    return principal


StaffDep = Annotated[Principal, Depends(staff)]
LeadDep = Annotated[Principal, Depends(leads)]
ReaderDep = Annotated[Principal, Depends(readers)]
