"""Triage of a received complaint: classification (rules or the optional model), emotion,
priority and the irritation streak; the model's training and evaluation (``routing-triage``)."""
