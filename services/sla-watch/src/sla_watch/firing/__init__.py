"""The firing loop: warnings and breaches of due clocks, and the escalation a breach causes."""
