"""Staffing: teams, agents, account managers, team queues and availability."""
