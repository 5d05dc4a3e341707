"""Pure rules of the session: the signed-in user, claims, CSRF tokens."""
