"""Erasure (PIPL / GDPR, section 10): a customer anonymised everywhere, and legal holds."""
