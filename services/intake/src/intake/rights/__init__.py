"""Data subjects' rights besides erasure (§10): access (an export of what intake holds about
a customer), correction of a complaint's contact details, and retention (complaints closed
longer than ``RETENTION_DAYS`` are anonymised through the erasure)."""
