"""Who may reveal a customer's contact, and what the audit keeps of it (pure rules)."""
