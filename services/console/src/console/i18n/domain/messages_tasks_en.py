"""The console's texts about tasks in en: the kinds (review, follow-up call, unreachable
customer), their outcomes and reasons, the CSAT scale, the tasks' history entries, the
board's task panel, "My tasks" and the task forms. Every key here is in
:mod:`.messages_tasks_zh` too, and in no other module of the catalog (unit tests check both)."""

from __future__ import annotations

from typing import Final

MESSAGES: Final = {
    "task.review_reopen": "Review of a reopened case",
    "task.follow_up_call": "Follow-up call",
    "task.customer_unreachable": "Customer unreachable",
    "task_status.open": "Open",
    "task_status.done": "Done",
    "task_outcome.confirmed_fix": "Fix confirmed",
    "task_outcome.reassigned": "Handed to someone better placed",
    "task_outcome.coached": "Agent coached",
    "task_outcome.no_action": "Reviewed, nothing to do",
    "task_outcome.reached": "Customer reached",
    "task_outcome.not_reached": "Customer not reached",
    "task_outcome.new_issue_raised": "Customer raised a new issue",
    "task_outcome.case_closed": "Closed with the case (withdrawn or merged)",
    "task_outcome.contacted": "Customer reached another way",
    "task_reason.resolved": "Follow-up of a resolved P1/P2 case",
    "task_reason.no_channel": "No channel reaches the customer (confirmation request not sent)",
    "csat.1": "1 · Very dissatisfied",
    "csat.2": "2 · Dissatisfied",
    "csat.3": "3 · Neutral",
    "csat.4": "4 · Satisfied",
    "csat.5": "5 · Very satisfied",
    "event.task_created": "Task created",
    "event.task_assigned": "Task assigned",
    "event.task_completed": "Task completed",
    "event.task_rescheduled": "Task rescheduled",
    "event.closed_not_reached": "Customer could not be reached",
    "board.tasks": "Tasks",
    "board.tasks.review_reopen": "Reviews",
    "board.tasks.follow_up_call": "Follow-up calls due",
    "board.tasks.customer_unreachable": "Unreachable customers",
    "board.tasks.later": "Not workable yet ({count})",
    "board.no_tasks": "No open task.",
    "notice.task_assigned": "The task is yours.",
    "notice.task_completed": "Task completed.",
    "notice.task_given": "The task was given to the chosen agent.",
    "tasks.assign.to": "Give to an agent",
    "tasks.assign.choose": "Choose an agent…",
    "tasks.assign.submit": "Assign",
    "tasks.assign.current": "current assignee",
    "my_tasks.title": "My tasks",
    "my_tasks.hint": (
        "The open tasks assigned to you, by due time. A follow-up call goes to the "
        "case's first-contact agent after the resolution: it is listed here even once "
        "the case has left your queue."
    ),
    "my_tasks.all": "Show every kind",
    "my_tasks.empty": "You have no open task.",
    "my_tasks.unavailable": "Tasks are not available (routing does not offer them).",
    "my_tasks.case": "Case …{short}",
    "my_tasks.count": "{count} tasks to work on",
    "my_tasks.count_overdue": ", {count} overdue",
    "tasks.take": "Take it",
    "tasks.complete": "Complete",
    "tasks.outcome": "Outcome",
    "tasks.note": "Note",
    "tasks.submit": "Complete task",
    "tasks.overdue": "Overdue",
    "tasks.overdue_count": "{count} overdue",
    "tasks.available_from": "from {when}",
    "tasks.not_yet": "Not yet available until {when}",
    "tasks.not_available": "This task cannot be completed yet; nothing was changed.",
    "tasks.completed_at": "completed {when}",
    "tasks.csat": "Customer satisfaction (CSAT, optional)",
    "tasks.csat.none": "Not recorded",
    "tasks.csat.hint": "Only when the customer was reached: 1 lowest, 5 highest.",
    "tasks.csat_value": "CSAT {score}/5",
    "form.error.csat_range": "Choose a score from 1 to 5.",
    "form.error.csat_not_asked": "A CSAT is recorded only when the customer was reached.",
}
