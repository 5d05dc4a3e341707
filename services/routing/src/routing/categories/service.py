"""The category tree's use cases (§4): read it; add, change and remove sub-categories and
their extra keywords. Every change bumps the tree's version in its own transaction, so each
routing process rebuilds its cached classifier (``routing.triage.classifiers``).

Refusals: ``InvalidInput`` (a new top-level category: the eight codes are the event
contract's), ``NotFound`` (no such sub-category), ``Conflict`` (the code exists; a built-in
sub-category cannot be removed, the rules would still produce it).
"""

from __future__ import annotations

from typing import NoReturn

from complaint_runtime.database import Database, UnitOfWork
from complaint_runtime.errors import Conflict, InvalidInput, NotFound

from routing.categories.db import CategoryTreeRepository
from routing.categories.domain.tree import CategoryTree, Labels, Subcategory, SubcategoryRow


async def current_tree(*, database: Database) -> CategoryTree:
    async with database.sessions() as session:
        return await CategoryTreeRepository(session).tree()


def refuse_new_category() -> NoReturn:
    """Top-level categories are fixed by the event contract: adding one is always refused."""
    raise InvalidInput(
        "The eight top-level category codes are part of the event contract; "
        "add a sub-category instead.",
        title="Top-level categories are fixed",
    )


async def add_subcategory(
    *,
    database: Database,
    category: str,
    code: str,
    labels: Labels,
    keywords: tuple[str, ...],
    weight: int,
    actor: str,
) -> CategoryTree:
    """A new sub-category of ``category``; ``Conflict`` when the code exists there."""
    async with database.unit_of_work() as uow:
        repository = CategoryTreeRepository(uow.session)
        node = (await repository.tree()).node(category)
        if node is None or node.subcategory(code) is not None:
            raise Conflict(f"{category}/{code} already exists", title="Sub-category exists")
        row = SubcategoryRow(category, code, labels.zh, labels.en, keywords, weight)
        return await _saved(uow, repository, row, actor=actor, before=None)


async def change_subcategory(
    *,
    database: Database,
    category: str,
    code: str,
    actor: str,
    labels: Labels | None = None,
    keywords: tuple[str, ...] | None = None,
    weight: int | None = None,
) -> CategoryTree:
    """Relabel a sub-category or replace its extra keywords or weight (what is None stays)."""
    async with database.unit_of_work() as uow:
        repository = CategoryTreeRepository(uow.session)
        current = await _existing(repository, category, code)
        labels = labels or current.labels
        row = SubcategoryRow(
            category,
            code,
            labels.zh,
            labels.en,
            keywords if keywords is not None else current.keywords,
            weight if weight is not None else current.weight,
        )
        return await _saved(uow, repository, row, actor=actor, before=current)


async def remove_subcategory(*, database: Database, category: str, code: str, actor: str) -> None:
    """Remove a sub-category an administrator added; built-in ones stay (``Conflict``)."""
    async with database.unit_of_work() as uow:
        repository = CategoryTreeRepository(uow.session)
        current = await _existing(repository, category, code)
        if current.builtin:
            raise Conflict(
                f"{category}/{code} is named by the classification rules and cannot be "
                "removed; change its labels or keywords instead",
                title="Built-in sub-category",
            )
        await repository.delete(category, code)
        await repository.bump()
        uow.audit(
            actor=actor,
            action="subcategory.removed",
            object_type="subcategory",
            object_id=f"{category}/{code}",
            before=current,
        )


async def _existing(repository: CategoryTreeRepository, category: str, code: str) -> Subcategory:
    """The sub-category ``category/code`` of the current tree; ``NotFound`` if there is none."""
    node = (await repository.tree()).node(category)
    current = node.subcategory(code) if node is not None else None
    if current is None:
        raise NotFound(f"no sub-category {category}/{code}")
    return current


async def _saved(
    uow: UnitOfWork,
    repository: CategoryTreeRepository,
    row: SubcategoryRow,
    *,
    actor: str,
    before: Subcategory | None,
) -> CategoryTree:
    """Store an administrator's change (audited with its before and after) and bump the
    version; returns the tree it makes."""
    await repository.put(row, actor=actor)
    await repository.bump()
    uow.audit(
        actor=actor,
        action="subcategory.added" if before is None else "subcategory.changed",
        object_type="subcategory",
        object_id=f"{row.category}/{row.code}",
        before=before,
        after=row,
    )
    return await repository.tree()
