"""SLA policies: their table, the admin API, and where a new clock's terms come from."""
