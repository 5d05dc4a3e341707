"""Pure rules of escalation on breach: the ladder. No I/O."""
