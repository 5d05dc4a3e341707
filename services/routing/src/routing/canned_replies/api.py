"""Canned replies over HTTP. ``/v1/admin/canned-replies``: administrators write (POST, PUT,
DELETE), leads, managers and administrators read. ``GET /v1/canned-replies``: any staff
member reads the replies for a case's category (plus those for any category) in a
language.

A title (1..100 characters) or text (1..2000) with a raw phone number or e-mail address is
refused (422), like every text that may reach customers. Problems: 401/403, 404, 422
``validation``, 503.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from complaint_contracts.events.common import reject_raw_contacts
from complaint_contracts.vocabulary import Category, Language
from complaint_runtime.auth import Principal, require_roles
from complaint_runtime.text import SingleLine
from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from routing.bootstrap import DependenciesDep
from routing.canned_replies import service
from routing.canned_replies.service import CannedReplyFields, CannedReplyView

admin_router = APIRouter(prefix="/v1/admin/canned-replies", tags=["admin"])
router = APIRouter(prefix="/v1/canned-replies", tags=["cases"])

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
ERRORS: dict[int | str, dict[str, Any]] = dict.fromkeys(
    (400, 401, 403, 404, 409, 413, 422, 503), PROBLEM
)
AdminDep = Annotated[Principal, Depends(require_roles("admin"))]
SupervisorDep = Annotated[Principal, Depends(require_roles("admin", "lead", "manager"))]
StaffReaderDep = Annotated[Principal, Depends(require_roles("agent", "lead", "manager", "admin"))]
ReplyId = Annotated[int, Path(ge=1, le=2**63 - 1)]
NoContacts = AfterValidator(reject_raw_contacts)
TITLE = 100
TEXT = 2000


class CannedReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category: Category | None = Field(
        None, description="One of the eight category codes; null: for any category"
    )
    language: Language
    title: Annotated[str, NoContacts, SingleLine] = Field(min_length=1, max_length=TITLE)
    text: Annotated[str, NoContacts] = Field(
        min_length=1,
        max_length=TEXT,
        description="The reply; no raw phone numbers or e-mail addresses",
    )

    def fields(self) -> CannedReplyFields:
        return CannedReplyFields(self.category, self.language, self.title, self.text)


class CannedReplyOut(BaseModel):
    id: int
    category: Category | None = Field(description="null: for any category")
    language: Language
    title: str
    text: str
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime

    @classmethod
    def of(cls, view: CannedReplyView) -> CannedReplyOut:
        return cls.model_validate(view, from_attributes=True)


CategoryQuery = Annotated[
    Category | None,
    Query(description="The case's category: its replies and those for any category"),
]
LanguageQuery = Annotated[Language | None, Query(description="zh-CN or en; omitted: both")]


@router.get(
    "",
    response_model=list[CannedReplyOut],
    responses=ERRORS,
    summary="Canned replies for a category (plus those for any category) and a language",
)
async def replies_for_case(
    deps: DependenciesDep,
    _caller: StaffReaderDep,
    category: CategoryQuery = None,
    language: LanguageQuery = None,
) -> list[CannedReplyOut]:
    views = await service.list_replies(database=deps.database, category=category, language=language)
    return [CannedReplyOut.of(v) for v in views]


@admin_router.get(
    "", response_model=list[CannedReplyOut], responses=ERRORS, summary="Canned replies"
)
async def list_replies(
    deps: DependenciesDep,
    _caller: SupervisorDep,
    category: CategoryQuery = None,
    language: LanguageQuery = None,
) -> list[CannedReplyOut]:
    views = await service.list_replies(database=deps.database, category=category, language=language)
    return [CannedReplyOut.of(v) for v in views]


@admin_router.get(
    "/{reply_id}", response_model=CannedReplyOut, responses=ERRORS, summary="A canned reply"
)
async def get_reply(
    reply_id: ReplyId, deps: DependenciesDep, _caller: SupervisorDep
) -> CannedReplyOut:
    return CannedReplyOut.of(await service.get_reply(database=deps.database, reply_id=reply_id))


@admin_router.post(
    "",
    status_code=201,
    response_model=CannedReplyOut,
    responses=ERRORS,
    summary="Add a canned reply",
)
async def create_reply(
    body: CannedReplyIn, deps: DependenciesDep, caller: AdminDep
) -> CannedReplyOut:
    view = await service.create_reply(
        database=deps.database, fields=body.fields(), actor=caller.subject
    )
    return CannedReplyOut.of(view)


@admin_router.put(
    "/{reply_id}",
    response_model=CannedReplyOut,
    responses=ERRORS,
    summary="Replace a canned reply",
)
async def replace_reply(
    reply_id: ReplyId, body: CannedReplyIn, deps: DependenciesDep, caller: AdminDep
) -> CannedReplyOut:
    view = await service.replace_reply(
        database=deps.database, reply_id=reply_id, fields=body.fields(), actor=caller.subject
    )
    return CannedReplyOut.of(view)


@admin_router.delete(
    "/{reply_id}", status_code=204, responses=ERRORS, summary="Remove a canned reply"
)
async def delete_reply(reply_id: ReplyId, deps: DependenciesDep, caller: AdminDep) -> Response:
    await service.delete_reply(database=deps.database, reply_id=reply_id, actor=caller.subject)
    return Response(status_code=204)
