"""Canned replies: administrators' ready-made answers per category and language, read by
staff while working a case."""
