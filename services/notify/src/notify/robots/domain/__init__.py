"""Pure rules for staff robots: no I/O, no clock (callers pass the time), no framework."""
