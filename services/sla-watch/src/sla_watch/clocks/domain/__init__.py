"""Pure rules of SLA clocks: thresholds, deadlines, pauses, rescheduling. No I/O."""
