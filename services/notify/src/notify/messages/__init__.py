"""Messages: which ones an event causes, to whom, and how each is written (resolved and
rendered just before sending)."""
