"""Human references C-YYYYMMDD-NNNNNN and the per-day counter behind them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from complaint_runtime.database import Database
from complaint_runtime.testing import sqlite_database
from hypothesis import given
from hypothesis import strategies as st
from intake.complaints.db import SubmissionRepository
from intake.complaints.domain.references import format_reference

DAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (1, "C-20261123-000001"),
        (42, "C-20261123-000042"),
        (999_999, "C-20261123-999999"),
        (1_000_000, "C-20261123-1000000"),
        (12_345_678, "C-20261123-12345678"),
    ],
)
def test_format(number: int, expected: str) -> None:
    assert format_reference(DAY, number) == expected


def test_day_is_zero_padded() -> None:
    assert format_reference(date(2027, 1, 5), 7) == "C-20270105-000007"


@given(
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(9999, 12, 31)),
    number=st.integers(min_value=1, max_value=10**9),
)
def test_reference_parses_back(day: date, number: int) -> None:
    reference = format_reference(day, number)
    match = re.fullmatch(r"C-(\d{8})-(\d{6,})", reference)
    assert match is not None
    assert match.group(1) == day.strftime("%Y%m%d")
    assert int(match.group(2)) == number


@given(numbers=st.lists(st.integers(min_value=1, max_value=999_999), min_size=2, unique=True))
def test_six_digit_references_sort_like_their_numbers(numbers: list[int]) -> None:
    references = [format_reference(DAY, n) for n in numbers]
    assert sorted(references) == [format_reference(DAY, n) for n in sorted(numbers)]


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = await sqlite_database(tmp_path / "t.db", "intake")
    yield db
    await db.dispose()


async def test_reference_numbers_are_consecutive_per_day(database: Database) -> None:
    async with database.unit_of_work() as uow:
        repository = SubmissionRepository(uow.session)
        assert list(await repository.next_reference_numbers(DAY, 1)) == [1]
        assert list(await repository.next_reference_numbers(DAY, 3)) == [2, 3, 4]
        assert list(await repository.next_reference_numbers(date(2026, 11, 24), 2)) == [1, 2]
    async with database.unit_of_work() as uow:
        repository = SubmissionRepository(uow.session)
        assert list(await repository.next_reference_numbers(DAY, 1)) == [5]


async def test_rolled_back_numbers_are_reused(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.unit_of_work() as uow:
            await SubmissionRepository(uow.session).next_reference_numbers(DAY, 1)
            raise RuntimeError
    async with database.unit_of_work() as uow:
        assert list(await SubmissionRepository(uow.session).next_reference_numbers(DAY, 1)) == [1]
