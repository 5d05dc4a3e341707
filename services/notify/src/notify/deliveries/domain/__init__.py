"""Pure rules of deliveries: when a failed delivery is retried, the statuses of the log (no I/O)."""
