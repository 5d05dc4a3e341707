"""Admin API of the category tree (§4): read the tree; add, change and remove
sub-categories and their extra keywords. Admins write; leads, managers and admins read.

The eight top-level codes are the event contract's and fixed: adding one is a 422.
Built-in sub-categories (those the rule table names) can be relabelled and given extra
keywords, but not removed (409): the rules would still produce them.
"""

from __future__ import annotations

from typing import Annotated, Any

from complaint_contracts.vocabulary import Category
from complaint_runtime.auth import Principal, require_roles
from complaint_runtime.text import SingleLine
from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from routing.bootstrap import DependenciesDep
from routing.categories import service
from routing.categories.domain.tree import DEFAULT_KEYWORD_WEIGHT, CategoryTree, Labels

router = APIRouter(prefix="/v1/admin/categories", tags=["admin"])

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
ERRORS: dict[int | str, dict[str, Any]] = dict.fromkeys(
    (400, 401, 403, 404, 409, 413, 422, 503), PROBLEM
)

AdminDep = Annotated[Principal, Depends(require_roles("admin"))]
ReaderDep = Annotated[Principal, Depends(require_roles("admin", "lead", "manager"))]
SUB_CODE = r"^[a-z][a-z0-9_]{1,59}$"
SubPath = Annotated[str, Path(pattern=SUB_CODE)]
MAX_KEYWORDS = 50
Keyword = Annotated[str, Field(min_length=1, max_length=40)]


def _cleaned(keywords: list[str]) -> list[str]:
    cleaned = [k.strip() for k in keywords]
    if any(not k or not k.isprintable() for k in cleaned):
        raise ValueError("keywords must be printable and not blank")
    return list(dict.fromkeys(cleaned))


class LabelsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    zh: Annotated[str, SingleLine] = Field(min_length=1, max_length=100)
    en: Annotated[str, SingleLine] = Field(min_length=1, max_length=100)


class SubcategoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=SUB_CODE, description="Stable code used in events")
    labels: LabelsIn
    keywords: list[Keyword] = Field(
        default_factory=list,
        max_length=MAX_KEYWORDS,
        description="Literal words (Chinese or English) that point to this sub-category",
    )
    weight: int = Field(DEFAULT_KEYWORD_WEIGHT, ge=1, le=3, description="1 context, 3 decisive")

    @field_validator("keywords")
    @classmethod
    def _clean(cls, keywords: list[str]) -> list[str]:
        return _cleaned(keywords)


class SubcategoryPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    labels: LabelsIn | None = None
    keywords: list[Keyword] | None = Field(None, max_length=MAX_KEYWORDS)
    weight: int | None = Field(None, ge=1, le=3)

    @field_validator("keywords")
    @classmethod
    def _clean(cls, keywords: list[str] | None) -> list[str] | None:
        return None if keywords is None else _cleaned(keywords)


class SubcategoryOut(BaseModel):
    code: str
    labels: dict[str, str]
    keywords: list[str]
    weight: int
    builtin: bool


class CategoryOut(BaseModel):
    code: Category
    labels: dict[str, str]
    subcategories: list[SubcategoryOut]


class TreeOut(BaseModel):
    version: int
    categories: list[CategoryOut]


def _tree_out(tree: CategoryTree) -> TreeOut:
    return TreeOut(
        version=tree.version,
        categories=[
            CategoryOut(
                code=node.code,
                labels={"zh": node.labels.zh, "en": node.labels.en},
                subcategories=[
                    SubcategoryOut(
                        code=s.code,
                        labels={"zh": s.labels.zh, "en": s.labels.en},
                        keywords=list(s.keywords),
                        weight=s.weight,
                        builtin=s.builtin,
                    )
                    for s in node.subcategories
                ],
            )
            for node in tree.categories
        ],
    )


@router.get("", response_model=TreeOut, responses=ERRORS, summary="The category tree")
async def get_tree(deps: DependenciesDep, _caller: ReaderDep) -> TreeOut:
    return _tree_out(await service.current_tree(database=deps.database))


@router.post(
    "",
    status_code=422,
    responses=ERRORS,
    summary="Top-level categories are fixed by the event contract: always 422",
)
async def add_category(_caller: AdminDep) -> Response:
    service.refuse_new_category()


@router.post(
    "/{code}/subcategories",
    status_code=201,
    response_model=TreeOut,
    responses=ERRORS,
    summary="Add a sub-category (409 if the code exists under this category)",
)
async def add_subcategory(
    code: Category, body: SubcategoryIn, deps: DependenciesDep, caller: AdminDep
) -> TreeOut:
    tree = await service.add_subcategory(
        database=deps.database,
        category=code,
        code=body.code,
        labels=Labels(zh=body.labels.zh, en=body.labels.en),
        keywords=tuple(body.keywords),
        weight=body.weight,
        actor=caller.subject,
    )
    return _tree_out(tree)


@router.patch(
    "/{code}/subcategories/{sub}",
    response_model=TreeOut,
    responses=ERRORS,
    summary="Relabel a sub-category or replace its extra keywords",
)
async def change_subcategory(
    code: Category, sub: SubPath, body: SubcategoryPatch, deps: DependenciesDep, caller: AdminDep
) -> TreeOut:
    labels = body.labels
    tree = await service.change_subcategory(
        database=deps.database,
        category=code,
        code=sub,
        actor=caller.subject,
        labels=Labels(zh=labels.zh, en=labels.en) if labels is not None else None,
        keywords=tuple(body.keywords) if body.keywords is not None else None,
        weight=body.weight,
    )
    return _tree_out(tree)


@router.delete(
    "/{code}/subcategories/{sub}",
    status_code=204,
    responses=ERRORS,
    summary="Remove an added sub-category (built-in ones: 409)",
)
async def remove_subcategory(
    code: Category, sub: SubPath, deps: DependenciesDep, caller: AdminDep
) -> Response:
    await service.remove_subcategory(
        database=deps.database, category=code, code=sub, actor=caller.subject
    )
    return Response(status_code=204)
