"""Notify's pure rules: what to send for an event, to whom, when to retry (no I/O)."""
