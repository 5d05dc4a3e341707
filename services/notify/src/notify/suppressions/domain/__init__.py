"""Pure rules of suppressions: which message a suppression stops, unsubscribe tokens."""
