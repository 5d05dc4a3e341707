"""The SLA badge of a case or clock: a colour for how much of the target is used, and a
text that says the same (colour is never the only sign).

- ``ok`` (green): under 50 % of the target used;
- ``warning`` (amber): 50–90 % (sla-watch's 50 % or 75 % warning fired);
- ``danger`` (red): over 90 % (the 90 % warning fired), or the deadline passed before
  sla-watch reported the breach;
- ``breached`` (dark red): breached;
- ``paused`` (waiting for the customer) and ``none`` (no running clock): grey.

Routing's case lists give the state (``at_risk`` from the 50 % warning on) and, where
routing has it, the highest warning percent; without the percent an at-risk case is amber.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

SlaLevel = Literal["ok", "warning", "danger", "breached", "paused", "none"]
LEVELS: Final[tuple[SlaLevel, ...]] = ("ok", "warning", "danger", "breached", "paused", "none")
WARNING_FROM: Final = 50
DANGER_FROM: Final = 90


@dataclass(frozen=True, slots=True)
class SlaBadge:
    level: SlaLevel
    seconds_left: int | None  # wall-clock seconds to the deadline (negative: overdue)

    @property
    def label_key(self) -> str:
        """The catalog key of the word that goes with the colour."""
        return f"sla.level.{self.level}"


def sla_level(
    *, state: str | None, warned_percent: int | None, seconds_left: int | None
) -> SlaLevel:
    if state == "breached":
        return "breached"
    if state == "paused":
        return "paused"
    if state not in ("on_track", "at_risk", "running"):
        return "none"
    if seconds_left is not None and seconds_left < 0:
        return "danger"
    percent = warned_percent or 0
    if percent >= DANGER_FROM:
        return "danger"
    if state == "at_risk" or percent >= WARNING_FROM:
        return "warning"
    return "ok"


def sla_badge(
    *, state: str | None, warned_percent: int | None = None, seconds_left: int | None = None
) -> SlaBadge:
    level = sla_level(state=state, warned_percent=warned_percent, seconds_left=seconds_left)
    shown = seconds_left if level in ("ok", "warning", "danger", "breached") else None
    return SlaBadge(level=level, seconds_left=shown)


def clock_badge(
    *, state: str, breached: bool, warned_percent: int | None, seconds_left: int | None
) -> SlaBadge:
    """The badge of one clock of the case file (running, paused or stopped)."""
    if breached:
        return SlaBadge("breached", seconds_left if state == "running" else None)
    if state == "stopped":
        return SlaBadge("none", None)
    return sla_badge(
        state="paused" if state == "paused" else "running",
        warned_percent=warned_percent,
        seconds_left=seconds_left,
    )
