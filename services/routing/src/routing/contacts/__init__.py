"""A customer's raw contact, revealed to a lead or manager and audited (§10)."""
