"""Why a task refuses a change: it is done already (409 ``task-done``), or its window has
not opened (409 ``task-not-available``)."""

from __future__ import annotations

from datetime import datetime

from complaint_runtime.errors import Conflict


class TaskDoneError(Conflict):
    """A done task is final: it is neither assigned nor completed again."""

    default_title = "Task done"
    default_kind = "task-done"

    def __init__(self, task_id: int) -> None:
        super().__init__(f"Task {task_id} is done already; nothing was changed.", task_id=task_id)


class TaskNotAvailableError(Conflict):
    """A follow-up call is made in its window: not before it opens."""

    default_title = "Task not available yet"
    default_kind = "task-not-available"

    def __init__(self, task_id: int, available_from: datetime) -> None:
        super().__init__(
            f"Task {task_id} can be completed from {available_from.isoformat()}; nothing was "
            "changed.",
            task_id=task_id,
            available_from=available_from.isoformat(),
        )
