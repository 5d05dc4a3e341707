"""Live updates: the console's read model of case changes, fed by its own consumer group
from the platform's topics, and a server-sent events stream per signed-in browser.

How a change reaches a browser within about two seconds, with any number of console
replicas sharing one database:

1. routing (or intake, sla-watch) commits a change and its event; the outbox relay
   publishes it (≈ 0.5 s at most);
2. the console's consumer (group ``console``: each event is applied by one replica)
   records a row in ``case_changes`` (increasing id, complaint, team and assignee after
   and before the change, event type, time), in the same transaction as the event's id in
   ``processed_events``: once per event;
3. every open stream polls ``case_changes`` every ``CONSOLE_LIVE_POLL_S`` (1 s) for ids
   after the last one it looked at, keeps those its user may see (their team's and their
   own; managers all: :mod:`.domain.visibility`) and sends them as ``case-changed``
   events; the queue and the board re-fetch their lists on such an event (htmx).

Events do not all carry the team and the assignee: ``live_cases`` remembers them per
complaint from ``complaint.assigned`` (the only event that moves a case), so every change
row names who may see it. Rows older than ``CONSOLE_LIVE_RETENTION_S`` are pruned.
"""
