"""Jinja2 templates of the console, rendered server-side (autoescaped). Templates and
static files live inside the package (the wheel ships them); every link and script in a
page is a path of the console itself: nothing is loaded from elsewhere at run time."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from console.board.domain.tasks import (
    CSAT_SCORES,
    MAX_TASK_NOTE,
    csat_outcomes,
    outcomes_of,
    works_tasks,
)
from console.cases.domain.actions import escalation_levels

PACKAGE = Path(__file__).resolve().parent.parent
TEMPLATES: Final = PACKAGE / "templates"
STATIC: Final = PACKAGE / "static"
VENDOR: Final = STATIC / "vendor"
VENDOR_FILES: Final = ("htmx.min.js", "sse.min.js")


def vendor_present(directory: Path = VENDOR) -> bool:
    """Whether ``python -m console.assets`` copied htmx and its SSE extension here; without
    them the pages still work (plain forms and links), only without live updates."""
    return all((directory / name).is_file() for name in VENDOR_FILES)


class Pages:
    """The template environment (one per process, read-only after start)."""

    def __init__(self, directory: Path = TEMPLATES, *, with_vendor: bool | None = None) -> None:
        self.environment = Environment(
            loader=FileSystemLoader(directory),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        # The task forms' choices, per kind, their note's length, and who has tasks of their
        # own ("My tasks" in the navigation): the rules are console.board.domain.tasks; the
        # levels a case may be escalated to: console.cases.domain.actions.
        self.environment.globals.update(
            task_outcomes=outcomes_of,
            csat_outcomes=csat_outcomes,
            csat_scores=CSAT_SCORES,
            task_note_max=MAX_TASK_NOTE,
            works_tasks=works_tasks,
            escalation_levels=escalation_levels,
        )
        self.with_vendor = vendor_present() if with_vendor is None else with_vendor

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        return self.environment.get_template(name).render(
            {**context, "with_vendor": self.with_vendor}
        )
