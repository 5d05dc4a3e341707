"""Pure rules of the case page: the SLA badge, the view of a case file, which actions a
case offers, the forms' limits, and what changed under a stale form."""
