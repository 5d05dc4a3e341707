"""Pure rules of lost-link recovery: what the form accepts, how a contact is matched, the
one-time code's life (expiry, attempts) and its keyed hash."""
