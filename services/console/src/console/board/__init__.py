"""The lead's board: the team's agents with load, capacity and availability, the waiting
queue, the cases at risk and breached, the next deadlines (sla-watch), the open tasks of
each kind (reviews, 回访 follow-up calls due, unreachable customers) with how many are
overdue, a reassign form on every case and a form giving each task to an agent, refreshed
live; and "My tasks", each user's own open tasks with their forms."""
