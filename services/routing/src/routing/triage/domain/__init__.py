"""Triage's pure rules: category (keyword classification over the category tree), emotion,
the irritation streak and priority, and the word segmentation they share. No I/O."""
