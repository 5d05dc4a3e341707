"""How far a stream has read ``case_changes``, with several writers.

Ids come from a sequence when a row is inserted, and transactions commit in any order: a
reader may see id 12 before id 11 is committed. A stream therefore moves its cursor (the
id below which it has seen everything) only over ids it has seen, and over a missing id
only once the rows after it are older than ``grace_s`` (a rolled-back insert leaves a hole
for good; a slow transaction fills it within seconds). Rows above the cursor that it has
already handled are remembered, so nothing is sent twice while waiting.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta


def advance(cursor: int, seen: Mapping[int, datetime], *, now: datetime, grace_s: float) -> int:
    """The new cursor: past every seen id that follows without a gap, and past a gap once
    the first row after it was recorded more than ``grace_s`` ago. ``seen`` maps the ids
    above ``cursor`` the stream handled to when each was recorded."""
    settled = now - timedelta(seconds=grace_s)
    for change_id in sorted(i for i in seen if i > cursor):
        if change_id != cursor + 1 and seen[change_id] > settled:
            break
        cursor = change_id
    return cursor
