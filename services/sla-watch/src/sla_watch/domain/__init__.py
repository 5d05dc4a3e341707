"""Pure SLA rules: calendars, clock arithmetic, thresholds, targets. No I/O."""
