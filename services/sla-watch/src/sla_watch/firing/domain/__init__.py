"""Pure rules of escalation on breach (the ladder) and by hand. No I/O."""
