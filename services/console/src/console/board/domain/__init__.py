"""Pure rules of the board: agent load, tasks (kinds, outcomes, CSAT, windows), deadlines."""
