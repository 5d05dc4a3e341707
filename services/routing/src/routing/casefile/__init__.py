"""The agent's case file and case lists: what routing keeps of a complaint beyond its triage
(texts, customer, conversation, SLA clocks, search terms) and the reads over it."""
