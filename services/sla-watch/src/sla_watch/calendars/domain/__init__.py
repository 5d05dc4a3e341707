"""Pure rules of business calendars: working time, holidays, time zones. No I/O."""
