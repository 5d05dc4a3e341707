"""The lead's board: the team's agents with load, capacity and availability, the waiting
queue, the cases at risk and breached, the next deadlines (sla-watch), the review tasks,
and a reassign form on every case, refreshed live."""
