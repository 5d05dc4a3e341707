"""Offsets applied but not committed yet: committed together, at most every interval while
records keep coming, and per partition when partitions are revoked."""

from __future__ import annotations

from aiokafka import TopicPartition
from complaint_runtime.offsets import PendingOffsets

A, B = TopicPartition("t", 0), TopicPartition("t", 1)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_offsets_wait_for_the_interval_then_go_together() -> None:
    clock = Clock()
    pending = PendingOffsets(interval_s=0.2, clock=clock)
    assert not pending
    assert not pending.due()
    pending.add({A: 5})
    clock.now += 0.1
    pending.add({A: 7, B: 3})
    assert not pending.due()
    clock.now += 0.15
    assert pending.due()
    assert pending.take() == {A: 7, B: 3}
    assert not pending
    pending.add({B: 4})
    assert not pending.due()  # the interval counts from the last commit


def test_no_interval_commits_after_every_batch() -> None:
    pending = PendingOffsets(interval_s=0.0, clock=Clock())
    pending.add({A: 1})
    assert pending.due()


def test_an_offset_never_goes_back() -> None:
    pending = PendingOffsets(interval_s=0.2, clock=Clock())
    pending.add({A: 9})
    pending.add({A: 4})
    assert pending.take() == {A: 9}


def test_revoked_partitions_are_taken_alone() -> None:
    pending = PendingOffsets(interval_s=0.2, clock=Clock())
    pending.add({A: 2, B: 8})
    assert pending.take([B]) == {B: 8}
    assert pending.take([B]) == {}
    assert pending.take() == {A: 2}
