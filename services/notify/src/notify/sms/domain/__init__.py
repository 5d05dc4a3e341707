"""Pure SMS rules: the provider interface, phone numbers, segments, delivery receipts."""
