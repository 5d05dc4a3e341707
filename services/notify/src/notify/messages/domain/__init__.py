"""Pure rules of messages: what to send for an event, to whom, with which words (no I/O)."""
