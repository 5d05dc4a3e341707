"""The assignment engine (§5): owning team, best free agent or the team queue, transfers."""
