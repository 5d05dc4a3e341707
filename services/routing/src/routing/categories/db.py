"""The category tree's storage: administrators' sub-categories and overrides, and a version.

The built-in tree lives in code (``routing.categories.domain.tree``); the table holds only what
administrators changed, and ``category_tree_version`` a counter bumped in the same
transaction as every change, so each routing process can tell cheaply (one primary-key
read) whether its cached classifier is stale.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from complaint_runtime.database import Base, UTCDateTime, utcnow
from sqlalchemy import JSON, Integer, String, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from routing.categories.domain.tree import DEFAULT_TREE, CategoryTree, SubcategoryRow

_VERSION_ROW = 1


class CategorySubcategory(Base):
    __tablename__ = "category_subcategories"

    category: Mapped[str] = mapped_column(String(40), primary_key=True)
    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    label_zh: Mapped[str] = mapped_column(String(100))
    label_en: Mapped[str] = mapped_column(String(100))
    keywords: Mapped[list[Any]] = mapped_column(JSON, default=list)
    weight: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CategoryTreeVersion(Base):
    __tablename__ = "category_tree_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer)


class CategoryTreeRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def version(self) -> int:
        row = await self.session.get(CategoryTreeVersion, _VERSION_ROW)
        return row.version if row is not None else 0

    async def bump(self) -> int:
        """Next version, in the caller's transaction (row-locked by the UPDATE)."""
        result = await self.session.execute(
            update(CategoryTreeVersion)
            .where(CategoryTreeVersion.id == _VERSION_ROW)
            .values(version=CategoryTreeVersion.version + 1)
        )
        if getattr(result, "rowcount", 0) == 0:
            self.session.add(CategoryTreeVersion(id=_VERSION_ROW, version=1))
            await self.session.flush()
        return await self.version()

    async def rows(self) -> list[CategorySubcategory]:
        query = select(CategorySubcategory).order_by(
            CategorySubcategory.category, CategorySubcategory.updated_at
        )
        return list(await self.session.scalars(query))

    async def get(self, category: str, code: str) -> CategorySubcategory | None:
        return await self.session.get(CategorySubcategory, (category, code))

    async def put(self, row: SubcategoryRow, *, actor: str) -> None:
        existing = await self.get(row.category, row.code)
        if existing is None:
            existing = CategorySubcategory(category=row.category, code=row.code)
            self.session.add(existing)
        existing.label_zh = row.label_zh
        existing.label_en = row.label_en
        existing.keywords = list(row.keywords)
        existing.weight = row.weight
        existing.updated_by = actor
        existing.updated_at = utcnow()
        await self.session.flush()

    async def delete(self, category: str, code: str) -> None:
        await self.session.execute(
            delete(CategorySubcategory).where(
                CategorySubcategory.category == category, CategorySubcategory.code == code
            )
        )

    async def tree(self) -> CategoryTree:
        version = await self.version()
        rows = [
            SubcategoryRow(
                r.category,
                r.code,
                r.label_zh,
                r.label_en,
                tuple(str(k) for k in r.keywords or ()),
                r.weight,
            )
            for r in await self.rows()
        ]
        return DEFAULT_TREE.with_rows(rows, version=version)
