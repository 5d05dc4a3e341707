"""Business calendars: their tables, the admin API of calendars and their special dates."""
