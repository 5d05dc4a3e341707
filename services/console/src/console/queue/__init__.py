"""The queues: my open cases (the landing page), the team's cases and its waiting queue,
filtered with chips and a search, by time to breach, refreshed live."""
