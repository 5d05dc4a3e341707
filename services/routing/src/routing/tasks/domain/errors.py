"""Why a task refuses a change: it is done already (409 ``task-done``)."""

from __future__ import annotations

from complaint_runtime.errors import Conflict


class TaskDoneError(Conflict):
    """A done task is final: it is neither assigned nor completed again."""

    default_title = "Task done"
    default_kind = "task-done"

    def __init__(self, task_id: int) -> None:
        super().__init__(f"Task {task_id} is done already; nothing was changed.", task_id=task_id)
